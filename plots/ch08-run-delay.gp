# ch08-run-delay: CPU-bound workers against CPUs: the share of each worker's time spent runnable
# but waiting for a CPU (schedstat), the machine's CPU pressure, and the ideal on an idle machine.
load "style.gp"
f = datadir.'/ch08-run-delay.tsv'
eval stamp(f)
cpus = real(meta(f, 'cpus'))
set title sprintf("More runnable workers than CPUs: the excess shows as time waiting for a CPU (%d CPUs)", int(cpus))
set xlabel "CPU-bound workers"
set ylabel "% of the time"
set xrange [0.5:*]
set yrange [0:105]
set xtics 1
set key bottom right
ideal(w) = w <= cpus ? 0 : 100 * (1 - cpus / w)
plot rows(f, 'waiting-share') using 2:5:6:7 with yerrorlines title "each worker: run delay / (run delay + CPU)", \
     rows(f, 'psi-some') using 2:5:6:7 with yerrorlines title "machine: some task waiting (/proc/pressure/cpu)", \
     rows(f, 'waiting-share') using 2:(ideal($2)) with linespoints lt 8 title "ideal on an idle machine: 1 - CPUs/workers"
