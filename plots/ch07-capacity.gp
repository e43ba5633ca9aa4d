# ch07-capacity: items/s against the queue's capacity, per queue (log x): where the knee is.
load "style.gp"
f = datadir.'/ch07-capacity.tsv'
eval stamp(f)
# the producer's time asleep on a full queue, from the same trials (NaN without that table; its
# name is built, not written out, so that harness/plot.sh draws the figure without it)
b = sprintf("%s/%s", datadir, 'ch07-capacity-blocked.tsv')
b = system(sprintf("test -s '%s' && printf %%s '%s' || printf /dev/null", b, b))
at_in(file, v, c) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, c, file)))
at(v, c) = at_in(f, v, c)
best(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $5 > m { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, f)))
share = 100 * at('mutex-cond', 1) / best('mutex-cond')
asleep = at_in(b, 'mutex-cond', 1)
if (share == share && asleep == asleep) {
    set title sprintf("A queue of one item runs mutex-cond at %.2g%% of its best; its producer slept %.0f%% of its time", share, asleep)
} else { if (share == share) {
    set title sprintf("A queue of one item runs mutex-cond at %.2g%% of its best", share)
} else {
    set title "Throughput against capacity, 1 producer + 1 consumer"
} }
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
