# ch05-bufsize: read() MB/s against its buffer size, with the L2 cache and mmap for reference.
load "style.gp"
f = datadir.'/ch05-bufsize.tsv'
# (The methods table's name is built, not written out: the figure is drawn without it, too.)
m = sprintf("%s/%s", datadir, 'ch05-methods.tsv')
eval stamp(f)
l2 = real(meta(f, 'l2_cache_kib'))
best = system(sprintf("awk -F'\t' '$1 == \"read\" && $5 > b { b = $5; x = $2 } END { print b, x }' '%s'", f))
at(x) = real(system(sprintf("awk -F'\t' '$1 == \"read\" && $2 == %d { print $5 }' '%s'", x, f)))
size(kib) = kib >= 1024 ? sprintf("%g MiB", kib / 1024) : sprintf("%g KiB", kib)
set title sprintf("read(): best with a %s buffer, %.1fx the speed with 4 KiB; 16 MiB gets %.2fx the best", \
    size(real(word(best, 2))), real(word(best, 1)) / at(4), at(16384) / real(word(best, 1)))
set xlabel "read() buffer size (log scale)"
set ylabel "MB/s over the whole file"
set logscale x 2
set xtics ("4K" 4, "16K" 16, "64K" 64, "256K" 256, "1M" 1024, "4M" 4096, "16M" 16384)
set xrange [3:22000]
set yrange [0:*]
set key bottom center
# mmap as the bufsize experiment measured it (# mmap_mbs=); a table from before it did takes the
# methods experiment's, earlier in the same run, and says so.
own = meta(f, 'mmap_mbs')
have_methods = system(sprintf("test -s '%s' && echo 1 || echo 0", m)) + 0
have_mmap = own ne '' || have_methods
mmap_mbs = own ne '' ? real(own) : have_methods ? \
    real(system(sprintf("awk -F'\t' '$1 == \"mmap\" { print $5; exit }' '%s'", m))) : 0
mmap_from = own ne '' ? 'this experiment' : 'methods experiment'
if (l2 > 0) {
    set arrow 1 from l2, graph 0 to l2, graph 1 nohead lt 8
    set label 1 sprintf(" L2 cache (%s)", size(l2)) at l2, graph 0.95 left font ',10' tc rgb '#666666'
}
if (have_mmap) {
    plot rows(f, 'read') using 2:5:6:7 with yerrorlines lt 1 title 'read() into a buffer of this size', \
         mmap_mbs with lines lt 5 dt 3 title sprintf('mmap, %s (%.0f MB/s)', mmap_from, mmap_mbs)
} else {
    plot rows(f, 'read') using 2:5:6:7 with yerrorlines lt 1 title 'read() into a buffer of this size'
}
