# ch09-size: wall time per value against input size: fixed costs (process start, set-up) fall
# as 1/N, per-value costs (copying, the arithmetic) stay flat.
load "style.gp"
f = datadir.'/ch09-size.tsv'
eval stamp(f)
# the first size at which the optimized rung beat one process, or "none"
first = system(sprintf("awk -F'\t' '$1 == \"sequential\" { s[$2] = $5 } $1 == \"pool-shm-batched\" { b[$2] = $5; x[++n] = $2 } END { for (i = 1; i <= n; i++) if (b[x[i]] < s[x[i]]) { print x[i]; exit } print \"none\" }' '%s'", f))
if (first eq 'none') {
    set title "One process was the fastest at every size: fixed costs never paid back"
} else {
    set title sprintf("The optimized rung first beats one process at %s values", first)
}
set xlabel "values"
set ylabel "nanoseconds per value (log scale)"
set logscale xy
set format x "10^%L"
set key top right
plot rows(f, 'sequential') using 2:5:6:7 with yerrorlines lt 7 title 'sequential (rung 0)', \
     rows(f, 'fork-per-chunk-pipe') using 2:5:6:7 with yerrorlines lt 2 title 'fork-per-chunk-pipe (1)', \
     rows(f, 'pool-pipe') using 2:5:6:7 with yerrorlines lt 4 title 'pool-pipe (2)', \
     rows(f, 'pool-shm-batched') using 2:5:6:7 with yerrorlines lt 1 title 'pool-shm-batched (5)'
