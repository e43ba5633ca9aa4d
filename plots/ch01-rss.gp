# ch01-rss: start + reap latency as the parent's touched memory grows.
load "style.gp"
f = datadir.'/ch01-rss.tsv'
eval stamp(f)
# The title states what this run's numbers show: how many microseconds each method's median
# added from the smallest size to the largest (columns: variant x unit n median ...). A ratio
# would mislead here: vfork's few tens of microseconds can double on noise alone. The sizes
# are found by value (x0 the smallest, x the largest), not by row order.
at(v, which) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { if (!n++ || $2 + 0 < x0) " . \
    "{ x0 = $2 + 0; first = $5 } if ($2 + 0 >= x) { x = $2 + 0; m = $5 } } " . \
    "END { print %s }' '%s'", v, which, f)))
added(v) = at(v, "m - first")
grows = at("fork", "m") > 1.5 * at("fork", "first")
vfork_flat = at("vfork", "m") < 1.5 * at("vfork", "first")
set title grows ? sprintf("From %g to %g MiB fork adds %.0f us (likely the page tables); " . \
                          "vfork adds %.0f, posix_spawn %.0f", at("fork", "x0"), \
                          at("fork", "x"), added("fork"), added("vfork"), added("posix_spawn")) \
                : sprintf("From %g to %g MiB fork grows only %.1fx; %s", \
                          at("fork", "x0"), at("fork", "x"), at("fork", "m / first"), \
                          vfork_flat ? "vfork stays flat" \
                                     : sprintf("vfork grows %.1fx", at("vfork", "m / first")))
set xlabel "memory the parent has touched, MiB (log scale)"
set ylabel "microseconds per start + reap (log scale)"
set logscale xy
set key top left
plot for [v in "fork vfork posix_spawn fork+write"] \
     rows(f, v) using 2:5:6:7 with yerrorlines title v
