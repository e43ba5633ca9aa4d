# ch01-python: starting a process from Python (chapters/01-fork/spawn.py) beside C (ch01-fork).
# Bars: microseconds to start one process (or thread) and reap it, median with min-max bars;
# blue the C program's methods, orange the Python twin's. Drawn from the C table alone when
# the Python one is absent (make chapter1 does not run spawn.py; make peers and the book do).
load "style.gp"
f = datadir.'/ch01-methods.tsv'
eval stamp(f)
# (the Python table's name is built, not written out: the figure is drawn without it, too)
py = sprintf("%s/%s", datadir, 'ch01-python-methods.tsv')
py = system(sprintf("test -s '%s' && printf %%s '%s' || printf /dev/null", py, py))
have_py = py ne '/dev/null'
c_methods = "fork vfork posix_spawn fork+exec thread"
py_methods = "os.fork Process-fork Process-forkserver Process-spawn subprocess thread"
# label, median, min, max, colour (1 = C, 2 = Python), in the order listed
bars = sprintf("< awk -F'\t' -v OFS='\t' -v cv='%s' -v pv='%s' -v c='%s' -v p='%s' ' \
    BEGIN { nc = split(cv, a, \" \"); np = split(pv, b, \" \") } \
    /^#/ || $1 == \"variant\" { next } \
    FILENAME == c { for (i = 1; i <= nc; i++) if ($1 == a[i]) r[i] = \"C \" $1 OFS $5 OFS $6 OFS $7 OFS 1 } \
    FILENAME == p { for (i = 1; i <= np; i++) if ($1 == b[i]) r[nc + i] = \"Py \" $1 OFS $5 OFS $6 OFS $7 OFS 2 } \
    END { for (i = 1; i <= nc + np; i++) if (i in r) print r[i] }' '%s' '%s'", \
    c_methods, py_methods, f, py, f, py)
med(file, v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, file)))
ratio = have_py ? med(py, 'Process-fork') / med(f, 'fork') : NaN
spawn = have_py ? med(py, 'Process-spawn') / med(py, 'Process-fork') : NaN
if (ratio == ratio && spawn == spawn) {
    set title sprintf("multiprocessing.Process with fork costs %.1fx C's fork; the spawn start method %.1fx that", \
        ratio, spawn)
} else {
    set title "Start a process and reap it: C's methods (run spawn.py for the Python series)"
}
set ylabel "microseconds per process (median, min-max bars; log scale)"
set logscale y 10
set format y "%g"
set yrange [1:*]
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.7
set grid noxtics
set xtics nomirror rotate by -35 font ',10'
set key top left
set bmargin 7
plot bars using 0:2:(0.7):5:xtic(1) with boxes lc variable notitle, \
     bars using 0:2:3:4 with yerrorbars lt 7 pt 0 notitle, \
     NaN with boxes lt 1 title 'C (ch01-fork)', \
     NaN with boxes lt 2 title 'Python (spawn.py)'
