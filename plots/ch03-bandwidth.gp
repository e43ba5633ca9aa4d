# ch03-bandwidth: one-way throughput against message size, per channel, under the memcpy ceiling.
load "style.gp"
f = datadir.'/ch03-bandwidth.tsv'
eval stamp(f)
# the largest size's medians, for the title: each variant's row with the largest x
largest(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 + 0 >= x { x = $2 + 0; m = $5 } \
    END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, f)))
share = 100 * largest('shm-zero-copy') / largest('memcpy')
if (share == share) {
    set title sprintf("Largest messages: shared memory read in place reaches %.0f%% \
of the memcpy ceiling", share)
} else {
    set title "One-way throughput by message size, under the single-core memcpy ceiling"
}
set xlabel "message size, bytes (log scale)"
set ylabel "GB/s, 10^9 bytes per second (log scale)"
set logscale x 2
set logscale y 10
set format y "%g"
set xtics ("64" 64, "256" 256, "1K" 1024, "4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, \
           "1M" 1048576, "4M" 4194304, "16M" 16777216, "64M" 67108864)
set offsets graph 0.03, graph 0.03, 0, 0
set key inside bottom right maxrows 4 width -2
channels = "pipe socketpair fifo mqueue queue shm-ring shm-zero-copy"
# The Python twin's channels (chapters/03-ipc/ipc.py), dashed, when its table is there. (Its
# name is built, not written out: the figure is drawn without it, too.)
py = sprintf("%s/%s", datadir, 'ch03-python-bandwidth.tsv')
have_py = int(system(sprintf("test -s '%s' && echo 1 || echo 0", py)))
py_channels = "Pipe Queue shared_memory"
if (have_py) {
    set key maxrows 6
    plot rows(f, 'memcpy') using ($2 * 1024):5 with lines lt 8 lw 3 \
            title 'memcpy, one CPU (ceiling)', \
         for [i = 1:words(channels)] rows(f, word(channels, i)) using ($2 * 1024):5:6:7 \
            with yerrorlines lt i lw (i == words(channels) ? 3 : 1.5) title word(channels, i), \
         for [i = 1:words(py_channels)] rows(py, word(py_channels, i)) using ($2 * 1024):5 \
            with linespoints lt (i == 3 ? 7 : i) dt 2 lw 1.5 title 'Python '.word(py_channels, i)
} else {
    plot rows(f, 'memcpy') using ($2 * 1024):5 with lines lt 8 lw 3 \
            title 'memcpy, one CPU (ceiling)', \
         for [i = 1:words(channels)] rows(f, word(channels, i)) using ($2 * 1024):5:6:7 \
            with yerrorlines lt i lw (i == words(channels) ? 3 : 1.5) title word(channels, i)
}
