# ch09-ladder: each rung's wall time at the default size, split into the phases of its median
# trial (stacked), so the change a rung makes shows as the bar segment that shrank.
load "style.gp"
f = datadir.'/ch09-ladder-phases.tsv'
eval stamp(f)
# the rows of the default size, the largest; the small-input rows are left out
n = system(sprintf("awk -F'\t' '!/^#/ && $1 != \"rung\" && $2 + 0 > n + 0 { n = $2 } END { print n }' '%s'", f))
main = sprintf("< awk -F'\t' '!/^#/ && $1 != \"rung\" && $2 == \"%s\"' '%s'", n, f)
wall(r) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == \"%s\" { print $11 }' '%s'", r, n, f)))
set title sprintf("Naive / optimized = %.2fx, one process / optimized = %.2fx: where each rung's time goes", \
                  wall('fork-per-chunk-pipe') / wall('pool-shm-batched'), wall('sequential') / wall('pool-shm-batched'))
set style data histograms
set style histogram rowstacked
set boxwidth 0.7
set ylabel "milliseconds (median trial)"
set xtics rotate by 30 right
set bmargin 8
set key top right
set yrange [0:*]
plot main using 5:xtic(1) lt 1 title 'start', \
     '' using 6 lt 2 title 'distribute (copy and send; +fill: into shared memory)', \
     '' using 7 lt 3 title 'compute (waiting for results)', \
     '' using 8 lt 4 title 'collect', \
     '' using 9 lt 5 title 'teardown'
