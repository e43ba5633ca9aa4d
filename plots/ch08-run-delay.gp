# ch08-run-delay: CPU-bound workers against CPUs: the share of each worker's time spent runnable
# but waiting for a CPU (schedstat), the machine's CPU pressure, and the ideal on an idle machine.
load "style.gp"
f = datadir.'/ch08-run-delay.tsv'
eval stamp(f)
cpus = real(meta(f, 'cpus'))
# the waiting share at the fewest and at the most workers, by name and x
at(v, w) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, w, f)))
most = int(system(sprintf("awk -F'\t' '$1 == \"waiting-share\" && $2 > m { m = $2 } END { print m + 0 }' '%s'", f)))
least = int(system(sprintf("awk -F'\t' '$1 == \"waiting-share\" && (m == \"\" || $2 < m) { m = $2 } END { print m + 0 }' '%s'", f)))
alone = at('waiting-share', least)
crowded = at('waiting-share', most)
if (most > cpus && crowded > alone + 10) {
    set title sprintf("More runnable workers than CPUs: the excess shows as time waiting for a CPU (%d CPUs)", int(cpus))
} else {
    set title sprintf("Time waiting for a CPU: %.0f%% with %d workers, %.0f%% with %d (%d CPUs)", \
                      crowded, most, alone, least, int(cpus))
}
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
