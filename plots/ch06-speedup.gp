# ch06-speedup: the same tasks on pools of W workers (shared-pipe dispatch), speedup over the plain loop
# by wall and CPU time.
load "style.gp"
f = datadir.'/ch06-overhead.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
eff = real(meta(f, 'effective_cpus'))
# the W quoted: the largest pool with a CPU per worker (the default --workers is the CPUs)
wq = int(system(sprintf("awk -F'\t' '!/^#/ && $2 == \"shared\" && $1 + 0 <= %d && $1 + 0 > wq { wq = $1 } END { print wq + 0 }' '%s'", cpus, f)))
atw(col) = real(system(sprintf("awk -F'\t' '$1 == %d && $2 == \"shared\" { print $%d }' '%s'", wq, col, f)))
set title sprintf("At %d workers: CPU-time speedup %.2f, wall-time %.2f (%.2f effective CPUs of %g)", \
                  wq, atw(19), atw(18), eff, cpus)
set xlabel "workers in the pool (W)"
set ylabel "speedup over the plain loop"
set xrange [0.8:*]
set yrange [0:*]
set xtics 1
set key top left
pool = sprintf("< awk -F'\t' '!/^#/ && $1 + 0 > 0 && $2 == \"shared\"' '%s'", f)
ideal(w) = w < cpus ? w : cpus
plot pool using 1:(ideal($1)) with lines lt 8 title 'wall ideal: min(W, CPUs)', \
     pool using 1:1 with lines lt 8 dt 3 title 'CPU-time ideal: W (as if every worker had a core)', \
     eff with lines lt 5 dt 3 title sprintf('effective CPUs (%.2f)', eff), \
     pool using 1:19 with linespoints lt 1 title 'CPU time: loop CPU / busiest worker CPU', \
     pool using 1:18 with linespoints lt 2 title 'wall time: loop wall / pool wall'
