# ch04-contention: ns per increment as the workers go past the CPU count, per lock variant.
load "style.gp"
f = datadir.'/ch04-contention.tsv'
eval stamp(f)
cpus = int(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
vs = system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" && !seen[$1]++ { print $1 }' '%s' | tr '\\n' ' '", f))
worst(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 > %d && $5 > m { m = $5 } END { print m + 0 }' '%s'", v, cpus, f)))
at(v, p) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } END { print m + 0 }' '%s'", v, p, f)))
has_spin = strstrt(vs, 'spinlock') > 0 && worst('spinlock') > 0 && at('spinlock', cpus) > 0
if (has_spin) {
    set title sprintf("Past the %d CPUs (%s effective) the spinlock's worst point costs %.1fx its cost at P = %d", \
                      cpus, meta(f, 'effective_cpus'), worst('spinlock') / at('spinlock', cpus), cpus)
} else {
    set title sprintf("Lock cost per increment as the workers go past the %d CPUs", cpus)
}
set xlabel "worker processes (P)"
set ylabel "ns per increment: wall time / (P x I), log scale"
set logscale y
set format y "%g"
maxp = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" && $2 > m { m = $2 } END { print m + 0 }' '%s'", f)))
set xrange [0.7:maxp + 0.3]
set xtics 1
set key top left
set arrow 1 from cpus + 0.5, graph 0 to cpus + 0.5, graph 1 nohead lt 8
set label 1 sprintf("more workers than CPUs (%d) ->", cpus) at cpus + 0.55, graph 0.95 left font ',10' tc rgb '#666666'
plot for [v in vs] rows(f, v) using 2:5:6:7 with yerrorlines title v
