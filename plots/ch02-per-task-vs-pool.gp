# ch02-per-task-vs-pool: wall time per task, a fresh process per task vs a pool, by task size.
load "style.gp"
f = datadir.'/ch02-per-task-vs-pool.tsv'
eval stamp(f)
cpus = real(system(sprintf("sed -n '2s/.* cpus=\\([0-9]*\\).*/\\1/p' '%s'", f)))
workers = real(meta(f, 'workers'))
spread = workers < cpus ? workers : cpus
set title "A process per task pays a fork every time; the pool pays it once per worker"
set xlabel "work in one task, microseconds (in-process, log scale)"
set ylabel "wall time per task, microseconds (log scale)"
set logscale xy
# Bottom right stays empty: the lines rise to the right, and the process-per-task line runs
# along the top, where a top-left key would hide its first point.
set key bottom right
set offsets graph 0.05, graph 0.05, 0, 0
plot rows(f, 'sequential') using 2:($5/spread) with lines lt 8 \
        title sprintf('ideal: the work alone, spread over %g CPUs', spread), \
     rows(f, 'sequential') using 2:5:6:7 with yerrorlines lt 3 title 'plain loop, one process', \
     rows(f, 'per-task') using 2:5:6:7 with yerrorlines lt 2 title 'fresh process per task', \
     rows(f, 'pool') using 2:5:6:7 with yerrorlines lt 1 \
        title sprintf('pool of %g (create + map + destroy)', workers)
