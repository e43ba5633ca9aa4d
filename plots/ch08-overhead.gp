# ch08-overhead: what watching costs: CPU per sample against processes watched (files kept open
# and read only when they can have changed, every file every sample, or reopened every time),
# what each /proc file costs to read against one bare system call, and the sampling loop's share
# of one CPU against its period, beside a timer loop that only reads stat and schedstat (the
# floor), one that reads nothing (the cost of waking up) and the prediction (back to back / period).
load "style.gp"
f = datadir.'/ch08-overhead.tsv'
eval stamp(f)
set multiplot layout 1,3 title "Watching from /proc: a few system calls per process per sample, and a wake-up per period" font ',13'
set logscale xy
set key top left font ',9'
set xlabel "processes watched (asleep)"
set ylabel "CPU microseconds"
plot rows(f, 'per-sample') using 2:5:6:7 with yerrorlines title "per sample (the whole tree)", \
     rows(f, 'per-process-reopen') using 2:5:6:7 with yerrorlines title "per process, reopening files", \
     rows(f, 'per-process-every-file') using 2:5:6:7 with yerrorlines lt 6 title "per process, every file every sample", \
     rows(f, 'per-process') using 2:5:6:7 with yerrorlines lt 3 title "per process, files kept open"
unset logscale
set xlabel "/proc/PID file (one read)"
set ylabel "CPU microseconds"
set yrange [0:*]
set xtics rotate by -35 font ',9'
set boxwidth 0.38
set xrange [0.4:words("stat status schedstat children statm io smaps_rollup") + 1.6]
set key top left
# the files in the order the TSV lists them, then one bare system call
files = "stat status schedstat children statm io smaps_rollup"
plot for [i = 1:words(files)] rows(f, 'reopen-'.word(files, i)) using (i - 0.2):5 with boxes \
         lt 2 fs solid 0.75 notitle, \
     for [i = 1:words(files)] rows(f, 'read-'.word(files, i)) using (i + 0.2):5:xtic(word(files, i)) \
         with boxes lt 3 fs solid 0.75 notitle, \
     NaN with boxes lt 2 title "open, read, close", NaN with boxes lt 3 title "pread, kept open", \
     rows(f, 'syscall') using (words(files) + 1):5:xtic("getppid") with boxes lt 7 notitle
set xtics norotate font ',12'
set autoscale x
set logscale xy
set xlabel "sampling period, ms (8 processes)"
set ylabel "% of one CPU"
set yrange [0.05:*]
set key top right
plot rows(f, 'loop-every-file') using 2:5:6:7 with yerrorlines lt 6 title "sampling loop, every file every sample", \
     rows(f, 'loop') using 2:5:6:7 with yerrorlines lt 3 title "sampling loop", \
     rows(f, 'floor') using 2:5:6:7 with yerrorlines lt 5 title "floor: reading stat and schedstat only", \
     rows(f, 'wake-ups') using 2:5:6:7 with yerrorlines lt 4 title "waking up, reading nothing", \
     rows(f, 'predicted') using 2:5 with lines lt 8 title "samples back to back / period", \
     1 with lines lt 7 lw 1 dt 3 title "1% of a CPU"
unset multiplot
