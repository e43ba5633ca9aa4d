# ch06-timeline: which worker ran which task, and when (a Gantt chart of one pool run).
load "style.gp"
f = datadir.'/ch06-timeline.tsv'
eval stamp(f)
stats f using 5 nooutput
finish = STATS_max
ntasks = STATS_records
stats f using 1 nooutput
nworkers = STATS_max + 1
set title sprintf("Dynamic scheduling: %d tasks on %d workers, the last done at %.1f ms", ntasks, nworkers, finish)
set xlabel "milliseconds since the pool started (fork of the first worker)"
set ylabel "worker"
set yrange [-0.6:nworkers - 0.4]
set ytics 1
set xrange [0:*]
set grid noytics
set key off
set style fill solid 0.8 border rgb '#333333'
# one box per task: x from start to end, colour by task number; its number on it when there is room
plot f using (($4 + $5) / 2):1:(($5 - $4) / 2):(0.35):(int($2) % 6 + 1) with boxxyerror lc variable, \
     f using (($4 + $5) / 2):1:(ntasks <= 40 ? sprintf("%d", $2) : "") with labels font ',9' tc rgb '#ffffff'
