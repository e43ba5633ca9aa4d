# ch10-workers: rows per second against the number of processes, with the ideal line.
load "style.gp"
f = datadir.'/ch10-workers.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
eff = real(meta(f, 'effective_cpus'))
seq = real(meta(f, 'sequential_mrows'))
best = system(sprintf("awk -F'\t' '$1 ~ /^byte-ranges/ && $5 > m { m = $5; n = $2; v = $1 } END { print m, n, v }' '%s'", f))
set title sprintf("%s peaks at W=%s: %.2fx one sequential process (%g CPUs, %.2f effective; median, min-max)", \
    word(best, 3), word(best, 2), real(word(best, 1)) / seq, cpus, eff)
set xlabel "processes W"
set ylabel "million rows per second"
set xrange [0.8:*]
set yrange [0:*]
set xtics 1
set key top left
ideal(n) = seq * (n < cpus ? n : cpus)
offered(n) = seq * (n < eff ? n : eff)
plot rows(f, 'byte-ranges-mmap') using 2:(ideal($2)) with lines lt 8 title 'ideal: sequential x min(W, CPUs)', \
     rows(f, 'byte-ranges-mmap') using 2:(offered($2)) with lines lt 7 dt 3 title sprintf('sequential x min(W, %.2f effective CPUs)', eff), \
     rows(f, 'byte-ranges-mmap') using 2:5:6:7 with yerrorlines lt 1 title 'byte-ranges-mmap', \
     rows(f, 'byte-ranges-pread') using 2:5:6:7 with yerrorlines lt 2 title 'byte-ranges-pread', \
     rows(f, 'chunks') using 2:5:6:7 with yerrorlines lt 3 title sprintf('chunks of %s rows', meta(f, 'chunk'))
