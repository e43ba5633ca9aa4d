# ch05-methods: MB/s of each way to sum the file, page cache warm (and cold, when measured).
load "style.gp"
f = datadir.'/ch05-methods.tsv'
c = datadir.'/ch05-cold.tsv'
eval stamp(f)
# the median of the first row whose variant matches a regular expression
median(file, re) = real(system(sprintf("awk -F'\t' '$1 ~ /^%s$/ { print $5; exit }' '%s'", re, file)))
have_cold = system(sprintf("test -s '%s' && echo 1 || echo 0", c)) + 0
procs = system(sprintf("awk -F'\t' '$1 ~ /^mmap-[0-9]+$/ { print $2; exit }' '%s'", f))
read_warm = median(f, 'read')
if (have_cold) {
    set title sprintf("Cached: mmap %.2fx and mmap-%s %.2fx read(); evicted first: read %.1fx slower (median, min-max)", \
        median(f, 'mmap') / read_warm, procs, median(f, 'mmap-[0-9]+') / read_warm, read_warm / median(c, 'read'))
} else {
    set title sprintf("Cached: mmap %.2fx and mmap-%s %.2fx the speed of read() (median, min-max)", \
        median(f, 'mmap') / read_warm, procs, median(f, 'mmap-[0-9]+') / read_warm)
}
set ylabel "MB/s over the whole file (10^6 bytes per second)"
set yrange [0:*]
set offsets 0.6, 0.6, graph 0.15, 0
set boxwidth 0.38
set grid noxtics
set key top center horizontal
if (have_cold) {
    plot f using ($0 - 0.2):5:xtic(1) with boxes lt 1 title 'page cache warm', \
         f using ($0 - 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle, \
         c using ($0 + 0.2):5 with boxes lt 2 title 'evicted first (POSIX_FADV_DONTNEED)', \
         c using ($0 + 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle
} else {
    plot f using 0:5:xtic(1) with boxes lt 1 title 'page cache warm', \
         f using 0:5:6:7 with yerrorbars lt 7 pt 0 notitle
}
