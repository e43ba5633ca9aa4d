# ch01-rss: start + reap latency as the parent's touched memory grows.
load "style.gp"
f = datadir.'/ch01-rss.tsv'
eval stamp(f)
# The title states what this run's numbers show: how many microseconds each method's median
# added from the smallest size to the largest (columns: variant x unit n median ...). A ratio
# would mislead here: vfork's few tens of microseconds can double on noise alone.
at(v, which) = real(system(sprintf("awk '$1 == \"%s\" { m = $5; x = $2; if (!n++) { first = m; " . \
    "x0 = x } } END { print %s }' '%s'", v, which, f)))
added(v) = at(v, "m - first")
grows = at("fork", "m") > 1.5 * at("fork", "first")
set title grows ? sprintf("From %g to %g MiB fork adds %.0f us (the page tables); " . \
                          "vfork adds %.0f, posix_spawn %.0f", at("fork", "x0"), \
                          at("fork", "x"), added("fork"), added("vfork"), added("posix_spawn")) \
                : "fork's fixed cost hides the page-table copy at these sizes; vfork stays flat"
set xlabel "memory the parent has touched, MiB (log scale)"
set ylabel "microseconds per start + reap (log scale)"
set logscale xy
set key top left
plot for [v in "fork vfork posix_spawn fork+write"] \
     rows(f, v) using 2:5:6:7 with yerrorlines title v
