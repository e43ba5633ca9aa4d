# ch01-rss: start + reap latency as the parent's touched memory grows.
load "style.gp"
f = datadir.'/ch01-rss.tsv'
eval stamp(f)
# The title states what this run's numbers show: fork's median at the largest size against the
# smallest (columns: variant x unit n median ...).
median_at(v, which) = real(system(sprintf("awk '$1 == \"%s\" { m = $5; if (!n++) first = m } " . \
    "END { print %s }' '%s'", v, which, f)))
grows = median_at("fork", "m") > 1.5 * median_at("fork", "first")
set title grows ? "fork grows with the parent's memory (page tables); " . \
                  "vfork and posix_spawn stay flat" \
                : "fork's fixed cost hides the page-table copy at these sizes; vfork stays flat"
set xlabel "memory the parent has touched, MiB (log scale)"
set ylabel "microseconds per start + reap (log scale)"
set logscale xy
set key top left
plot for [v in "fork vfork posix_spawn fork+write"] \
     rows(f, v) using 2:5:6:7 with yerrorlines title v
