# ch06-timeline: which worker ran which task, and when (a Gantt chart of one pool run).
load "style.gp"
f = datadir.'/ch06-timeline.tsv'
eval stamp(f)
stats f using 5 nooutput
finish = STATS_max
ntasks = STATS_records
stats f using 1 nooutput
nworkers = STATS_max + 1
stats f using ($5 - $4) nooutput
shortest = STATS_min
longest = STATS_max
set title sprintf("Dynamic scheduling: %d tasks on %d workers, the last done at %.1f ms", ntasks, nworkers, finish)
set xlabel "milliseconds since the pool started (fork of the first worker)"
set ylabel "worker"
set yrange [-0.6:nworkers - 0.4]
set ytics 1
set xrange [0:*]
set grid noytics
set key off
set style fill solid 1.0 border rgb '#333333'
# colour = the task's length, light (short) to dark (long): equal tasks that took unequal time
# stand out; the labels sit in white boxes so they read on every shade
set cbrange [shortest:longest]
set palette defined (0 '#fde8c8', 1 '#f0a35e', 2 '#c2521b', 3 '#6b2a0c')
set cblabel "task length, ms"
set colorbox vertical user origin graph 1.02, graph 0.15 size character 1.5, graph 0.7
set rmargin 12
set style textbox opaque fillcolor rgb '#ffffff' border lc rgb '#333333' margins 1.5, 1
plot f using (($4 + $5) / 2):1:(($5 - $4) / 2):(0.35):($5 - $4) with boxxyerror fc palette, \
     f using (($4 + $5) / 2):1:(ntasks <= 40 ? sprintf("%d", $2) : "") with labels font ',11' \
       tc rgb '#000000' boxed
