# ch04-python: ns per increment of one shared count against the number of workers P, the C
# program's variants (solid, ch04-locks) beside the Python twin's (dashed, counters.py).
# Pairs share a colour: semaphore / Value-get_lock (Python's lock is a POSIX semaphore),
# batched / batched, slots / RawArray-slots, none / RawValue. Drawn from the C table alone when
# the Python one is absent (make chapter4 does not run counters.py; make peers and the book do).
load "style.gp"
f = datadir.'/ch04-per-increment.tsv'
eval stamp(f)
# (the Python table's name is built, not written out: the figure is drawn without it, too)
py = sprintf("%s/%s", datadir, 'ch04-python-per-increment.tsv')
py = system(sprintf("test -s '%s' && printf %%s '%s' || printf /dev/null", py, py))
have_py = py ne '/dev/null'
c_variants = "semaphore batched slots none mutex atomic"
py_variants = "Value-get_lock batched RawArray-slots RawValue Array-slots Value"
at(file, v, x) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %d { m = $5 } \
    END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, x, file)))
# P to quote: the C run's CPU count (its default workers), from its metadata, not this machine's;
# without that row in both tables, the smallest P > 1 that both have.
p = int(meta(f, 'cpus'))
both(x) = at(f, 'semaphore', x) == at(f, 'semaphore', x) && at(py, 'Value-get_lock', x) == \
    at(py, 'Value-get_lock', x)
if (have_py && !both(p)) {
    p = int(system(sprintf("awk -F'\t' 'FNR == NR && $1 == \"semaphore\" && $2 > 1 { c[$2] = 1 } \
        FNR != NR && $1 == \"Value-get_lock\" && ($2 in c) && (m == \"\" || $2 < m) { m = $2 } \
        END { print m + 0 }' '%s' '%s'", f, py)))
}
ratio = have_py ? at(py, 'Value-get_lock', p) / at(f, 'semaphore', p) : NaN
if (ratio == ratio) {
    set title sprintf("A get_lock() per increment in Python costs %.0fx C's semaphore at P=%d", ratio, p)
} else {
    set title "ns per increment of a shared count by variant (run counters.py for the Python series)"
}
set xlabel "workers P"
set ylabel "ns per increment (median, min-max bars; log scale)"
set logscale y 10
set format y "%g"
set xtics 1
set offsets 0.2, 0.2, 0, 0
set key outside right top width -4
c_lines = "for [i = 1:words(c_variants)] rows(f, word(c_variants, i)) using 2:5:6:7 \
    with yerrorlines lt i title 'C '.word(c_variants, i)"
if (have_py) {
    plot @c_lines, \
         for [i = 1:words(py_variants)] rows(py, word(py_variants, i)) using 2:5 \
            with linespoints lt i dt 2 title 'Py '.word(py_variants, i)
} else {
    plot @c_lines
}
