# ch01-methods: latency to start, finish and reap one process or thread, per method.
load "style.gp"
f = datadir.'/ch01-methods.tsv'
eval stamp(f)
# The title names this run's dearest and cheapest rows (by median), not a fixed ranking.
ends = system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" { \
    if (hi == \"\" || $5 + 0 > hm) { hi = $1; hm = $5 + 0 } \
    if (lo == \"\" || $5 + 0 < lm) { lo = $1; lm = $5 + 0 } } \
    END { print hi, hm, lo, lm }' '%s'", f))
set title sprintf("Start and reap: %s costs most (%.0f us), %s least (%.0f us); " . \
                  "median, min-max bars", \
                  word(ends, 1), real(word(ends, 2)), word(ends, 3), real(word(ends, 4)))
set ylabel "microseconds per start + reap (log scale)"
set logscale y
set boxwidth 0.6
set grid noxtics
unset key
# Each median's value sits above its bar's whisker (the trials' max), so the two never overlap;
# the headroom keeps the tallest label inside the plot.
set yrange [1:*]
set autoscale xfix
set offsets 0.6, 0.6, 0, 0
plot f using 0:5:xtic(1) with boxes lt 1, \
     f using 0:5:6:7 with yerrorbars lt 7 pt 0, \
     f using 0:($7 * 1.6):(sprintf("%.0f", $5)) with labels font ',10'
