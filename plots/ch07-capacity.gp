# ch07-capacity: items/s against the queue's capacity, per queue (log x): where the knee is.
load "style.gp"
f = datadir.'/ch07-capacity.tsv'
eval stamp(f)
at(v, c) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, c, f)))
best(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $5 > m { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, f)))
share = 100 * at('mutex-cond', 1) / best('mutex-cond')
if (share == share) {
    set title sprintf("A queue of one item runs mutex-cond at %.2g%% of its best: every item waits for a wake-up", share)
} else {
    set title "Throughput against capacity, 1 producer + 1 consumer"
}
set xlabel "capacity, items of 64 bytes (log scale)"
set ylabel "million items per second (median, min-max), log scale"
set logscale x 2
set logscale y
set format y "%g"
set xtics ("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "1K" 1024, "4K" 4096, "16K" 16384, "64K" 65536)
set offsets graph 0.03, graph 0.03, 0, 0
set key bottom right
vs = "pipe mutex-cond semaphores mpmc-ring ring-batch"
plot for [i = 1:words(vs)] rows(f, word(vs, i)) using 2:5:6:7 with yerrorlines lt i title word(vs, i)
