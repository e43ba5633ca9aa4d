# ch08-accuracy: what a sampler misses against the kernel's own account (wait4): CPU used after
# a process's last sample, and short-lived children that start and end between two samples.
load "style.gp"
f = datadir.'/ch08-accuracy.tsv'
eval stamp(f)
# "misses more" only when the slowest period missed more than the fastest on both panels
at(v, x) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %g { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, x, f)))
fastest = real(system(sprintf("awk -F'\t' '$1 == \"spin-cpu-missed\" && (m == \"\" || $2 < m) { m = $2 } END { print m + 0 }' '%s'", f)))
slowest = real(system(sprintf("awk -F'\t' '$1 == \"spin-cpu-missed\" && $2 > m { m = $2 } END { print m + 0 }' '%s'", f)))
if (slowest > fastest && at('spin-cpu-missed', slowest) > at('spin-cpu-missed', fastest) && \
    at('short-seen', slowest) < at('short-seen', fastest)) {
    ttl = "A slower sampler misses more: the CPU after the last sample, and whole processes"
} else {
    ttl = "What a sampler misses, by period: the CPU after the last sample, and whole processes"
}
set multiplot layout 1,2 title ttl font ',13'
set logscale x
set xlabel "sampling period, ms"
set key top left
set ylabel "% of the workers' CPU (wait4) no sample saw"
set yrange [0:*]
# a hair below zero is rounding (wait4 counts whole microseconds): drawn as 0, never dropped
nonneg(v) = v < 0 ? 0 : v
plot rows(f, 'spin-cpu-missed') using 2:(nonneg($5)):(nonneg($6)):(nonneg($7)) \
     with yerrorlines title "2 workers of known CPU time"
set ylabel "% of the short-lived children seen at least once"
set yrange [0:105]
set key top right
plot rows(f, 'short-seen') using 2:5:6:7 with yerrorlines lt 2 title "children of 2 ms CPU each"
unset multiplot
