# ch01-batch: N children each doing a small task, one at a time vs all at once.
load "style.gp"
f = datadir.'/ch01-batch.tsv'
eval stamp(f)
# The title states what this run's numbers show at the largest N (each kind's row with the
# largest x), read beside the effective CPUs of the run, as the program's conclusion is.
at_largest(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 + 0 >= x \
    { x = $2 + 0; m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, f)))
eff = meta(f, 'effective_cpus')
eff = eff eq '' ? NaN : real(eff)
overlap = at_largest("all-at-once") < at_largest("one-at-a-time") / 1.2
if (overlap) {
    set title "N children: starting them all before waiting lets creation and work overlap"
} else {
    if (eff < 1.5) {
        set title sprintf("N children: with %.2f effective CPUs, starting them all first " . \
                          "gained little or nothing", eff)
    } else {
        set title "N children: starting them all before waiting gained little or nothing"
    }
}
set xlabel "children (N)"
set ylabel "total time, microseconds (log scale)"
set logscale xy 2
set format y "%.0f"
plot rows(f, 'one-at-a-time') using 2:5:6:7 \
        with yerrorlines lt 2 title 'one at a time (start, wait, next)', \
     rows(f, 'all-at-once') using 2:5:6:7 \
        with yerrorlines lt 1 title 'all at once (start all, then wait)'
