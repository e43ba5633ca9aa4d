# ch02-shell-pools: cost per tiny job through xargs -P, GNU parallel and the chapter's pool.
load "style.gp"
f = datadir.'/ch02-shell-pools.tsv'
eval stamp(f)
jobs = real(meta(f, 'jobs'))
set title sprintf("%g tiny jobs: starting a program per job costs far more than a call " . \
                 "in a live worker", jobs)
set ylabel "wall time per job, microseconds (log scale)"
set logscale y
set yrange [1:*]
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.6
set grid noxtics
unset key
plot f using 0:5:xtic(1) with boxes lt 1, \
     f using 0:5:6:7 with yerrorbars lt 7 pt 0, \
     f using 0:5:(sprintf("%.0f", $5)) with labels offset 0,0.9 font ',10'
