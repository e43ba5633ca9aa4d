# ch10-methods: rows per second of every method over the same file, W processes (log scale:
# per-row and the shell tools sit orders of magnitude apart).
load "style.gp"
f = datadir.'/ch10-methods.tsv'
eval stamp(f)
median(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { print $5; exit }' '%s'", v, f)))
w = system(sprintf("awk -F'\t' '$1 == \"byte-ranges-mmap\" { print $2; exit }' '%s'", f))
br = median('byte-ranges-mmap') > median('byte-ranges-pread') ? median('byte-ranges-mmap') : median('byte-ranges-pread')
set title sprintf("Byte ranges (W=%s): %.2fx sequential, %.0fx per-row; per-row is one write() per row (median, min-max)", \
    w, br / median('sequential'), br / median('per-row'))
set ylabel "million rows per second (log scale)"
set logscale y
set yrange [*:*]
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.6
set grid noxtics
set xtics rotate by -30
set key off
plot f using 0:5:xtic(1) with boxes lt 1 notitle, \
     f using 0:5:6:7 with yerrorbars lt 7 pt 0 notitle, \
     f using 0:($5 * 1.25):(sprintf("%.3g", $5)) with labels font ',9' notitle
