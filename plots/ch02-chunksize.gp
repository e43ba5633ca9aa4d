# ch02-chunksize: throughput of T tiny tasks against the chunk size.
load "style.gp"
f = datadir.'/ch02-chunksize.tsv'
eval stamp(f)
ideal = real(meta(f, 'ideal_ktasks_per_s'))
pychunk = real(meta(f, 'python_default_chunk'))
tasks = real(meta(f, 'tasks'))
set title sprintf("%g tiny tasks: chunks amortize the message, until too few are left to share", \
                 tasks)
set xlabel "chunk size, tasks per message (log scale)"
set ylabel "throughput, thousand tasks per second"
set logscale x 2
set format x "%g"
set yrange [0:*]
# The curve starts low at chunk 1 and the ideal line runs along the top: the key fits in the
# empty top left, and the note on Pool.map's chunk sits low beside its line, where no point is
# (near that chunk the throughput is close to its best).
set key top left
set arrow 1 from pychunk, graph 0 to pychunk, graph 1 nohead lt 5 dt 2
set label 1 sprintf(" Pool.map default\n chunk %g", pychunk) at pychunk, graph 0.1 left \
    tc rgb '#E69F00' font ',10'
# The Python twin's maps (chapters/02-pool/pools.py), dashed, when its table is there: the same
# sweep over Python's own T, its tiny task about as long in Python as C's is in C. (Its name is
# built, not written out: the figure is drawn without it, too.)
py = sprintf("%s/%s", datadir, 'ch02-python-chunksize.tsv')
have_py = int(system(sprintf("test -s '%s' && echo 1 || echo 0", py)))
if (have_py) {
    pytasks = real(meta(py, 'tasks'))
    set title sprintf("%g tiny tasks%s: chunks amortize the message, in C and in Python", tasks, \
                      pytasks == tasks ? "" : sprintf(" (Python: %g)", pytasks))
    # on a log scale the bottom right is empty (every map is fastest at large chunks): the key
    # goes there, and the note on Pool.map's chunk above it
    set key bottom right
    set label 1 at pychunk, graph 0.3
    set logscale y 10
    set yrange [*:*]
    set format y "%g"
    set ylabel "throughput, thousand tasks per second (log scale)"
    plot ideal with lines lt 8 title 'ideal (C): every worker busy, messages free', \
         rows(f, 'pool') using 2:5:6:7 with yerrorlines lt 1 title 'C pool (median, min-max)', \
         rows(py, 'Pool.map') using 2:5 with linespoints lt 2 dt 2 title 'Python Pool.map', \
         rows(py, 'ProcessPoolExecutor.map') using 2:5 with linespoints lt 3 dt 2 \
            title 'Python ProcessPoolExecutor.map'
} else {
    plot ideal with lines lt 8 title 'ideal: every worker busy, messages free', \
         rows(f, 'pool') using 2:5:6:7 with yerrorlines lt 1 title 'measured (median, min-max)'
}
