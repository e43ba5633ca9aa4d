# ch05-workers: the cached file split across N processes, MB/s against N, with the ideal.
load "style.gp"
f = datadir.'/ch05-workers.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
eff = real(meta(f, 'effective_cpus'))
# N = 1 and the best point of a variant, from the medians
at1(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == 1 { print $5 }' '%s'", v, f)))
best(v) = system(sprintf("awk -F'\t' '$1 == \"%s\" && $5 > m { m = $5; n = $2 } END { print m, n }' '%s'", v, f))
bm = best('mmap-N')
set title sprintf("Splitting the cached file: mmap-N peaks at %.0f MB/s with N=%s, %.2fx one process (%g CPUs, %.2f effective)", \
    real(word(bm, 1)), word(bm, 2), real(word(bm, 1)) / at1('mmap-N'), cpus, eff)
set xlabel "processes (N), each summing its page-aligned range"
set ylabel "MB/s over the whole file"
stats rows(f, 'mmap-N') using 2 nooutput
set xrange [0.7:STATS_max + 0.3]  # the last N's whisker off the border
set yrange [0:*]
set xtics 1
# bottom right: the lines run high on the left, and pread-N can sit above mmap-N there
set key bottom right
base = at1('mmap-N')
ideal(n) = base * (n < cpus ? n : cpus)
plot rows(f, 'mmap-N') using 2:(ideal($2)) with lines lt 8 title 'ideal: mmap-N at N=1 x min(N, CPUs)', \
     rows(f, 'mmap-N') using 2:5:6:7 with yerrorlines lt 1 title 'mmap-N (each maps its range)', \
     rows(f, 'pread-N') using 2:5:6:7 with yerrorlines lt 2 title 'pread-N (each pread()s its range)'
