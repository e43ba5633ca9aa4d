# ch03-latency: round trip of a 64-byte message per channel, both processes on one CPU vs two.
load "style.gp"
f = datadir.'/ch03-latency.tsv'
eval stamp(f)
# x is the number of CPUs the two processes used: 1 = --pin same, 2 = --pin spread
# The Python twin's channels (chapters/03-ipc/ipc.py) follow C's when its table is there.
# (Its name is built, not written out: the figure is drawn without it, too.)
py = sprintf("%s/%s", datadir, 'ch03-python-latency.tsv')
py = system(sprintf("test -s '%s' && printf %%s '%s' || printf /dev/null", py, py))
pick(x) = sprintf("< awk -F'\t' -v OFS='\t' '!/^#/ && $1 != \"variant\" && $2 == %d \
    { if (FILENAME != \"%s\") $1 = \"py \" $1; print }' '%s' '%s'", x, f, f, py)
same = pick(1)
spread = pick(2)
pipe_on(cpus) = real(system(sprintf("awk -F'\t' '$1 == \"pipe\" && $2 == %d { print $5; exit } \
    END { print \"NaN\" }' '%s' | head -1", cpus, f)))
ratio = pipe_on(2) / pipe_on(1)
# the title says only what this run's numbers say (the run does not time the wake-up apart)
if (ratio == ratio && ratio > 1.2) {
    set title sprintf("A pipe round trip costs %.1fx as much across two CPUs as on one \
(64-byte messages)", ratio)
} else {
    set title "Round trip of a 64-byte message, per channel"
}
# A log scale: the Python channels take ten times C's, and on a linear axis C's bars, the
# chapter's comparison, would be slivers.
set ylabel "microseconds per round trip (median, min-max bars; log scale)"
set logscale y
set yrange [1:*]
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.38
set grid noxtics
set xtics nomirror rotate by -30 font ',10'
set key top left
plot same using ($0 - 0.2):5:xtic(1) with boxes lt 1 \
        title 'both processes on one CPU (--pin same)', \
     same using ($0 - 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle, \
     spread using ($0 + 0.2):5 with boxes lt 2 \
        title 'on two CPUs (--pin spread)', \
     spread using ($0 + 0.2):5:6:7 with yerrorbars lt 7 pt 0 notitle
