# ch07-mpmc: items/s as producers and consumers are added (P = C), per queue.
load "style.gp"
f = datadir.'/ch07-mpmc.tsv'
eval stamp(f)
cpus = int(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
maxp = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" && $2 > m { m = $2 } END { print m + 0 }' '%s'", f)))
at(v, p) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, p, f)))
share = 100 * at('mutex-cond', maxp) / at('mutex-cond', 1)
if (share == share) {
    set title sprintf("With %d producers and %d consumers on %d CPUs, one lock moves %.0f%% of what 1 + 1 move", maxp, maxp, cpus, share)
} else {
    set title "Throughput as producers and consumers are added"
}
set xlabel "producers = consumers (P = C; 2P processes in all)"
set ylabel "million items per second (median, min-max), log scale"
set logscale x 2
set logscale y
set format y "%g"
set xrange [0.8:maxp * 1.25]
set key bottom left
set arrow 1 from cpus / 2.0 * 1.2, graph 0 to cpus / 2.0 * 1.2, graph 1 nohead lt 8
set label 1 sprintf("more processes than %d CPUs ->", cpus) at cpus / 2.0 * 1.25, graph 0.95 left font ',10' tc rgb '#666666'
vs = "pipe mutex-cond semaphores mpmc-ring ring-batch"
plot for [i = 1:words(vs)] rows(f, word(vs, i)) using 2:5:6:7 with yerrorlines lt i title word(vs, i)
