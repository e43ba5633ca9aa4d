# ch06-split: first-column tasks vs cycle-type tasks, the work each does and the time it takes.
load "style.gp"
f = datadir.'/ch06-split.tsv'
eval stamp(f)
val(split, col) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { print $%d }' '%s'", split, col, f)))
finding = sprintf("The cycle-type split: %.0fx less work, %.0fx less wall time, the same count", \
                  val('first-column', 3) / val('cycle-type', 3), val('first-column', 4) / val('cycle-type', 4))
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
