# ch05-python: one pass over the same cached file, MB/s (1 MB = 10^6 bytes), the C program's
# methods (blue, ch05-mmap) beside the Python twin's (orange, readers.py: NumPy adds, except
# read-pysum, which uses Python's sum()), median with min-max bars. Drawn from the C table alone
# when the Python one is absent (make chapter5 does not run readers.py; make peers and the book do).
load "style.gp"
f = datadir.'/ch05-methods.tsv'
eval stamp(f)
# (the Python table's name is built, not written out: the figure is drawn without it, too)
py = sprintf("%s/%s", datadir, 'ch05-python-methods.tsv')
py = system(sprintf("test -s '%s' && printf %%s '%s' || printf /dev/null", py, py))
have_py = py ne '/dev/null'
# the split variants are named with their N (pread-2 on 2 CPUs): every row of each table, in order
bars = sprintf("< awk -F'\t' -v OFS='\t' -v p='%s' ' \
    /^#/ || $1 == \"variant\" { next } \
    { print (FILENAME == p ? \"Py \" : \"C \") $1, $5, $6, $7, (FILENAME == p ? 2 : 1) }' '%s' '%s'", \
    py, f, py)
med(file, v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, file)))
mmap_vs_read = have_py ? med(py, 'mmap') / med(py, 'read') : NaN
pysum = have_py ? med(py, 'read') / med(py, 'read-pysum') : NaN
if (mmap_vs_read == mmap_vs_read && pysum == pysum) {
    set title sprintf("Python: mmap at %.2fx read's speed when NumPy adds; Python's own sum() %.0fx slower than NumPy's", \
        mmap_vs_read, pysum)
} else {
    set title "One pass over a cached file by method (run readers.py for the Python series)"
}
set ylabel "MB/s (median, min-max bars; log scale)"
set logscale y 10
set format y "%g"
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.7
set grid noxtics
set xtics nomirror rotate by -35 font ',10'
set key top right
set bmargin 7
plot bars using 0:2:(0.7):5:xtic(1) with boxes lc variable notitle, \
     bars using 0:2:3:4 with yerrorbars lt 7 pt 0 notitle, \
     NaN with boxes lt 1 title 'C (ch05-mmap)', \
     NaN with boxes lt 2 title 'Python (readers.py)'
