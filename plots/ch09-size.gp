# ch09-size: wall time per value against input size: fixed costs (process start, set-up) fall
# as 1/N, per-value costs (copying, the arithmetic) stay flat.
load "style.gp"
f = datadir.'/ch09-size.tsv'
eval stamp(f)
# the smallest size at which the optimized rung beat one process, or "none"
first = system(sprintf("awk -F'\t' '$1 == \"sequential\" { s[$2] = $5 } $1 == \"pool-shm-batched\" { b[$2] = $5 } END { for (x in b) if ((x in s) && b[x] < s[x] && (m == \"\" || x + 0 < m + 0)) m = x; print (m == \"\" ? \"none\" : m) }' '%s'", f))
if (first eq 'none') {
    set title sprintf("One process beat the optimized rung at every size (%.2f effective CPUs)", real(meta(f, 'effective_cpus')))
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
