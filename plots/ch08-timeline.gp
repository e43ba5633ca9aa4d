# ch08-timeline: what every process did, sample by sample: CPU %, resident memory, and which
# CPU it ran on (one row per process in the bottom panel; short-lived children share a row).
load "style.gp"
f = datadir.'/ch08-timeline.tsv'
eval stamp(f)
stats f using 1 nooutput
finish = STATS_max
stats f using 2 nooutput
nslots = STATS_max + 1
# rows grouped by pid, in time order, a blank line between processes: one line per process
by_pid = sprintf("< grep -v '^#' '%s' | tail -n +2 | sort -t'\t' -k4,4n -k1,1g | awk -F'\t' '$4 != p && NR > 1 { print \"\" } { print; p = $4 }'", f)
# the role of each slot, in slot order (a command's processes are named by what they ran last)
roles = system(sprintf("grep -v '^#' '%s' | awk -F'\t' 'NR > 1 { r[$2] = $3 } END { for (k in r) print k, r[k] }' | sort -n | cut -d' ' -f2 | tr '\n' ' '", f))
period = meta(f, 'period_ms')
if (strlen(period) == 0) period = '10'   # a table without the note: the timeline experiment's
set multiplot layout 3,1 title sprintf("Every process, every %s ms, for %.1f s: what a peak-only summary hides", period, finish / 1000) font ',13'
set key off
set xrange [0:finish]
set lmargin 12
set tmargin 1.5
set bmargin 2
set ylabel "CPU % of one CPU"
set yrange [0:*]
set key top left horizontal font ',9' samplen 2
plot by_pid using 1:7:(int($2) % 8 + 1) with lines lc variable lw 1.5 notitle, \
     for [i = 1:(nslots < 8 ? nslots : 8)] NaN with lines lc (i - 1) % 8 + 1 title word(roles, i)
set key off
set ylabel "resident MiB"
plot by_pid using 1:($8 / 1024):(int($2) % 8 + 1) with lines lc variable lw 1.5
set bmargin 4
set ylabel "ran on CPU"
set xlabel "milliseconds since the watch started"
set yrange [-0.6:nslots + 0.6]
# one label per row: the role (or command name) of the slot's last process
eval "set ytics (".system(sprintf("grep -v '^#' '%s' | awk -F'\t' 'NR > 1 { r[$2] = $3 } END { for (k in r) { printf \"%%s\\\"%%s\\\" %%s\", sep, r[k], k; sep = \", \" } }'", f)).")"
set grid noytics
set key top right horizontal box opaque font ',9'
# a mark where a process used CPU since its previous sample, coloured by the CPU it last ran on
plot f using 1:($7 > 5 && $6 == 0 ? $2 : 1/0) with points pt 5 ps 0.35 lc 1 title "CPU 0", \
     f using 1:($7 > 5 && $6 == 1 ? $2 : 1/0) with points pt 5 ps 0.35 lc 2 title "CPU 1", \
     f using 1:($7 > 5 && $6 >= 2 ? $2 : 1/0) with points pt 5 ps 0.35 lc 3 title "CPU 2+"
unset multiplot
