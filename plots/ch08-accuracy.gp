# ch08-accuracy: what a sampler misses against the kernel's own account (wait4): CPU used after
# a process's last sample, and short-lived children that start and end between two samples.
load "style.gp"
f = datadir.'/ch08-accuracy.tsv'
eval stamp(f)
set multiplot layout 1,2 title "A slower sampler misses more: the CPU after the last sample, and whole processes" font ',13'
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
