# ch10-chunksize: the parent sends K rows per message; rows per second against K.
load "style.gp"
f = datadir.'/ch10-chunksize.tsv'
eval stamp(f)
seq = real(meta(f, 'sequential_mrows'))
br = real(meta(f, 'byte_ranges_mrows'))
w = meta(f, 'workers')
best = system(sprintf("awk -F'\t' '$1 == \"chunks\" && $5 > m { m = $5; k = $2 } END { print m, k }' '%s'", f))
at1 = real(system(sprintf("awk -F'\t' '$1 == \"chunks\" && $2 == 1 { print $5 }' '%s'", f)))
# "still" only when the best K stayed below the byte ranges
set title sprintf("Rows per message: K=%s is %.0fx K=1, %s%.2fx the byte ranges (W=%s; median, min-max)", \
    word(best, 2), real(word(best, 1)) / at1, real(word(best, 1)) < br ? "still " : "", \
    real(word(best, 1)) / br, w)
set xlabel "rows per message K (log scale)"
set ylabel "million rows per second (log scale)"
set logscale xy
set xrange [0.5:200000]
set key bottom right
plot seq with lines lt 8 title sprintf('sequential, one process (%.3g)', seq), \
     br with lines lt 3 dt 4 title sprintf('byte-ranges-mmap, W=%s (%.3g)', w, br), \
     rows(f, 'chunks') using 2:5:6:7 with yerrorlines lt 1 title 'chunks: the parent reads, K rows per message'
