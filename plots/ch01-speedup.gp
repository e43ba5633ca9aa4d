# ch01-speedup: one fixed job split across P processes, speedup against the ideal.
load "style.gp"
f = datadir.'/ch01-speedup.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
eff = real(meta(f, 'effective_cpus'))
set title sprintf("Speedup follows the CPUs: %g online, %.2f effective while this ran", cpus, eff)
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
