# ch02-overhead: pool start + shutdown time against the number of workers, with the
# least-squares line; the title says which part is the larger in this run's fit.
load "style.gp"
f = datadir.'/ch02-overhead.tsv'
eval stamp(f)
fixed = real(meta(f, 'fit_fixed_us'))
per = real(meta(f, 'fit_per_worker_us'))
set title sprintf("Pool start + stop = %.0f us + %.0f us per worker: %s", fixed, per, \
                 fixed < per ? "the cost is per worker" : "set-up once costs more than a worker")
set xlabel "workers (N)"
set ylabel "microseconds"
set xrange [0:17]
set yrange [0:*]
set xtics (1, 2, 4, 8, 16)
set key top left
fit_line(n) = fixed + per * n
plot fit_line(x) with lines lt 8 title sprintf('least squares: %.0f + %.0f x N', fixed, per), \
     rows(f, 'start') using 2:5:6:7 with yerrorbars lt 4 \
         title 'start (fork N, wait for each hello)', \
     rows(f, 'stop') using 2:5:6:7 with yerrorbars lt 3 \
         title 'stop (send stop, read goodbyes, reap)', \
     rows(f, 'start+stop') using 2:5:6:7 with yerrorbars lt 1 pt 7 ps 1.2 title 'start + stop'
