# ch01-batch: N children each doing a small task, one at a time vs all at once.
load "style.gp"
f = datadir.'/ch01-batch.tsv'
eval stamp(f)
set title "N children: starting them all before waiting lets creation and work overlap"
set xlabel "children (N)"
set ylabel "total time, microseconds (log scale)"
set logscale xy 2
set format y "%.0f"
plot rows(f, 'one-at-a-time') using 2:5:6:7 \
        with yerrorlines lt 2 title 'one at a time (start, wait, next)', \
     rows(f, 'all-at-once') using 2:5:6:7 \
        with yerrorlines lt 1 title 'all at once (start all, then wait)'
