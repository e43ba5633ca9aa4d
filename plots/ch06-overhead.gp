# ch06-overhead: what the pool adds to the work, by W, with the parent dealing each task and with
# the workers taking their own from a shared pipe; and the same pool with empty tasks.
load "style.gp"
f = datadir.'/ch06-overhead.tsv'
eval stamp(f)
dispatch(d) = sprintf("< awk -F'\t' '!/^#/ && $1 + 0 > 0 && $2 == \"%s\"' '%s'", d, f)
at1(d, col) = real(system(sprintf("awk -F'\t' '$1 == 1 && $2 == \"%s\" { print $%d }' '%s'", d, col, f)))
set title sprintf("At W = 1 the pool adds %.2f ms when the parent deals each task, %.2f ms from a shared pipe", \
                  at1('parent', 7), at1('shared', 7))
set xlabel "workers in the pool (W)"
set ylabel "milliseconds (log scale)"
set logscale y
# room on both sides of the first and last W, so no whisker sits on the border; the y range
# reaches below the 1 ms goal and above the highest whisker, with the key on top
stats "< awk -F'\t' '!/^#/ && $1 + 0 > 0'  '".f."'" using 1 nooutput
set xrange [0.7:STATS_max + 0.3]
stats "< awk -F'\t' '!/^#/ && $1 + 0 > 0'  '".f."'" using 9 nooutput
top = STATS_max
stats "< awk -F'\t' '!/^#/ && $1 + 0 > 0'  '".f."'" using 12 nooutput
top = STATS_max > top ? STATS_max : top
set yrange [0.5:top * 8]
set xtics 1
set key top left
plot 1 with lines lt 8 dt 2 title 'goal: 1 ms', \
     dispatch('parent') using 1:7:8:9 with yerrorlines lt 2 title 'overhead, parent dispatch (wall - busiest worker busy)', \
     dispatch('shared') using 1:7:8:9 with yerrorlines lt 1 pt 7 title 'overhead, shared pipe', \
     dispatch('shared') using 1:10:11:12 with yerrorlines lt 3 dt 3 title 'empty pool, shared pipe (tasks return at once)'
