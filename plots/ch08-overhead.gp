# ch08-overhead: what watching costs: CPU per sample against processes watched, and the
# sampling loop's share of one CPU against its period (the prediction: cost per sample / period).
load "style.gp"
f = datadir.'/ch08-overhead.tsv'
eval stamp(f)
set multiplot layout 1,2 title "Watching from /proc costs per process per sample, mostly in open(); a shorter period costs more" font ',13'
set logscale xy
set key top left
set xlabel "processes watched (asleep)"
set ylabel "CPU microseconds"
plot rows(f, 'per-sample') using 2:5:6:7 with yerrorlines title "per sample (the whole tree)", \
     rows(f, 'per-process') using 2:5:6:7 with yerrorlines title "per process per sample", \
     rows(f, 'per-process-kept-open') using 2:5:6:7 with yerrorlines title "per process, files kept open"
set xlabel "sampling period, ms (8 processes)"
set ylabel "% of one CPU"
set yrange [0.1:*]
set key top right
plot rows(f, 'loop') using 2:5:6:7 with yerrorlines title "the sampling loop, measured", \
     rows(f, 'loop-kept-open') using 2:5:6:7 with yerrorlines lt 3 title "the same, files kept open", \
     rows(f, 'predicted') using 2:5 with lines lt 8 title "per-sample cost / period", \
     1 with lines lt 7 lw 1 dt 3 title "1% of a CPU"
unset multiplot
