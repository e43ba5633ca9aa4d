# ch09-intensity: naive / optimized wall time, and the naive rung's copying against the work
# itself, as the work per value grows: where copying stops mattering.
load "style.gp"
f = datadir.'/ch09-intensity.tsv'
eval stamp(f)
cross = meta(f, 'crossover_units')
pred = meta(f, 'predicted_units')
if (cross eq 'nan' || cross eq '') {
    set title sprintf("Copying never crossed the work in this run (predicted at %s units)", pred)
} else {
    set title sprintf("Copying costs as much as the work at %s units per value (predicted: %s)", cross, pred)
}
set xlabel "units of work per value (1 = the tutorial's sin x cos x + sqrt|x|)"
set ylabel "ratio (log scale)"
set logscale xy 2
set key top right
plot 1 with lines lt 8 title 'equal', \
     rows(f, 'ratio') using 2:5:6:7 with yerrorlines lt 1 title 'naive / optimized wall time', \
     rows(f, 'copy/compute') using 2:5 with linespoints lt 2 title "naive rung's distribute phase / one process's time"
