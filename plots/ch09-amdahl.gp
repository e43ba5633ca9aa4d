# ch09-amdahl: the optimized rung's speedup over one process at W = 1..2 x CPUs, beside what
# Amdahl's law predicts from the serial part of its own W = 1 breakdown.
load "style.gp"
f = datadir.'/ch09-amdahl.tsv'
eval stamp(f)
serial = real(meta(f, 'serial_fraction'))
eff = real(meta(f, 'effective_cpus'))
set title sprintf("Serial part %.0f%% of the W = 1 run: measured speedup against Amdahl's prediction", 100 * serial)
set xlabel "workers (W)"
set ylabel "speedup over one process (rung 0)"
set xtics 1
set xrange [0.8:*]
set yrange [0:*]
set key top left
plot eff with lines lt 8 title sprintf('effective CPUs (%.2f)', eff), \
     rows(f, 'measured') using 2:5:6:7 with yerrorlines lt 1 title 'measured (pool-shm-batched)', \
     rows(f, 'amdahl') using 2:5 with linespoints lt 2 title 'Amdahl: serial + compute / W', \
     rows(f, 'amdahl-cpus') using 2:5 with linespoints lt 3 dt 2 title 'Amdahl with W capped at the effective CPUs'
