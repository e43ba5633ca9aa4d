# ch06-split: first-column tasks vs cycle-type tasks, the work each does and the time it takes.
load "style.gp"
f = datadir.'/ch06-split.tsv'
eval stamp(f)
val(split, col) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { print $%d }' '%s'", split, col, f)))
# "161x less", "1.4x less" or "no less", as the program says it
less(r) = r <= 1 ? "no less" : r >= 10 ? sprintf("%.0fx less", r) : sprintf("%.1fx less", r)
finding = sprintf("The cycle-type split: %s work, %s wall time, the same count", \
                  less(val('first-column', 3) / val('cycle-type', 3)), less(val('first-column', 4) / val('cycle-type', 4)))
set multiplot layout 1, 2 title finding font ',14' 
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.8
set logscale y
set key off
set xtics nomirror
set ylabel "work: DFS cells + DP steps (log scale)"
set title "work"
plot "< awk -F'\t' '!/^#/ && $1 != \"split\"' '".f."'" using 3:xtic(1) lt 1
set ylabel "milliseconds, wall and CPU (log scale)"
set title "time"
# inside the panel, over the empty top right: below the plot, a multiplot panel's key is cut off
set key top right box opaque
set yrange [*:*]
set offsets 0, 0, graph 0.25, 0
plot "< awk -F'\t' '!/^#/ && $1 != \"split\"' '".f."'" using 4:xtic(1) lt 1 title 'wall', '' using 5 lt 2 title 'CPU (all workers)'
unset multiplot
