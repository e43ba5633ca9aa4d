# ch10-cold: the same methods with the file in the page cache and evicted before each trial.
load "style.gp"
f = datadir.'/ch10-cold.tsv'
eval stamp(f)
resident = real(meta(f, 'most_resident_after_evict'))
at(v, x) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { print $5 }' '%s'", v, x, f)))
if (resident > 0.5) {
    set title sprintf("Eviction did not take effect (%.0f%% stayed cached): both bars are warm", 100 * resident)
} else {
    set title sprintf("Evicted first: sequential at %.2fx, cat at %.2fx their warm rates (median, min-max)", \
        at('sequential', 1) / at('sequential', 0), at('cat', 1) / at('cat', 0))
}
set ylabel "million rows per second"
set yrange [0:*]
set offsets 0.6, 0.6, graph 0.15, 0
set boxwidth 0.38
set grid noxtics
set key top center horizontal
warm = sprintf("< awk -F'\t' '!/^#/ && $2 == 0' '%s'", f)
cold = sprintf("< awk -F'\t' '!/^#/ && $2 == 1' '%s'", f)
plot warm using ($0 - 0.2):5:xtic(1) with boxes lt 1 title 'page cache warm', \
     warm using ($0 - 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle, \
     cold using ($0 + 0.2):5 with boxes lt 2 title 'evicted first (POSIX_FADV_DONTNEED)', \
     cold using ($0 + 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle
