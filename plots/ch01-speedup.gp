# ch01-speedup: one fixed job split across P processes, speedup against the ideal.
load "style.gp"
f = datadir.'/ch01-speedup.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
eff = real(meta(f, 'effective_cpus'))
# The best measured speedup, as the program computes it: wall time at P = 1 over the lowest
# wall-time median, and the P where it was.
best = system(sprintf("awk -F'\t' '$1 == \"wall\" { if ($2 == 1) t1 = $5; \
    if (p == \"\" || $5 + 0 < tb) { tb = $5 + 0; p = $2 } } END { print t1 / tb, p }' '%s'", f))
set title sprintf("Best speedup %.2fx with %d processes, against %g CPUs online, %.2f effective", \
                  real(word(best, 1)), int(real(word(best, 2))), cpus, eff)
set xlabel "processes (P)"
set ylabel "speedup over 1 process (T1 / TP)"
set xrange [0.8:*]
set yrange [0:*]
set xtics 1
set key top left
ideal(p) = p < cpus ? p : cpus
plot rows(f, 'speedup') using 2:(ideal($2)) with lines lt 8 title 'ideal: min(P, CPUs)', \
     eff with lines lt 5 dt 3 title sprintf('effective CPUs (%.2f)', eff), \
     rows(f, 'speedup') using 2:5:6:7 with yerrorlines lt 1 title 'measured'
