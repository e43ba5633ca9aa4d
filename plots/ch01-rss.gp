# ch01-rss: start + reap latency as the parent's touched memory grows.
load "style.gp"
f = datadir.'/ch01-rss.tsv'
eval stamp(f)
set title "fork grows with the parent's memory (page tables); vfork and posix_spawn stay flat"
set xlabel "memory the parent has touched, MiB (log scale)"
set ylabel "microseconds per start + reap (log scale)"
set logscale xy
set key top left
plot for [v in "fork vfork posix_spawn fork+write"] \
     rows(f, v) using 2:5:6:7 with yerrorlines title v
