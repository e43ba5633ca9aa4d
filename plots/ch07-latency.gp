# ch07-latency: the distribution of put-to-get latency per queue, at 50% and 90% offered load.
load "style.gp"
f = datadir.'/ch07-latency-cdf.tsv'
eval stamp(f)
l = datadir.'/ch07-littles-law.tsv'
held = system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" { n++; if ($7 >= -10 && $7 <= 10) h++ } END { printf \"%%d of %%d\", h, n }' '%s'", l))
set title sprintf("Latency from put to get; Little's law held within 10%% at %s points", held)
set xlabel "latency, microseconds (log scale)"
set ylabel "percent of items at or below"
set logscale x
set format x "%g"
set yrange [0:100]
set key top left
cdf(v, load) = sprintf("< awk -F'\t' '$1 == \"%s\" && $2 == %d' '%s'", v, load, f)
vs = "pipe mutex-cond semaphores mpmc-ring ring-batch"
plot for [i = 1:words(vs)] cdf(word(vs, i), 90) using 4:3 with lines lt i lw 2 title word(vs, i).' at 90%', \
     for [i = 1:words(vs)] cdf(word(vs, i), 50) using 4:3 with lines lt i lw 1 dt 2 title word(vs, i).' at 50%'
