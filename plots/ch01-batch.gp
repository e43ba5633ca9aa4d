# ch01-batch: N children each doing a small task, one at a time vs all at once.
load "style.gp"
f = datadir.'/ch01-batch.tsv'
eval stamp(f)
# The title states what this run's numbers show at the largest N (the last row of each kind).
last_median(v) = real(system(sprintf("awk '$1 == \"%s\" { m = $5 } END { print m }' '%s'", v, f)))
overlap = last_median("all-at-once") < last_median("one-at-a-time") / 1.2
set title overlap ? "N children: starting them all before waiting lets creation and work overlap" \
                  : "N children: the parent's forks, one after another, are most of the time"
set xlabel "children (N)"
set ylabel "total time, microseconds (log scale)"
set logscale xy 2
set format y "%.0f"
plot rows(f, 'one-at-a-time') using 2:5:6:7 \
        with yerrorlines lt 2 title 'one at a time (start, wait, next)', \
     rows(f, 'all-at-once') using 2:5:6:7 \
        with yerrorlines lt 1 title 'all at once (start all, then wait)'
