# ch07-throughput: items/s through each queue, 1 producer + 1 consumer, 64-byte items.
load "style.gp"
f = datadir.'/ch07-throughput.tsv'
eval stamp(f)
med(v) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { m = $5 } END { print (m == \"\" ? \"NaN\" : m) }' '%s'", v, f)))
ratio = med('ring-batch') / med('mutex-cond')
if (ratio == ratio) {
    set title sprintf("Claiming slots in batches moves %.1fx the items of a lock and condition variable per item", ratio)
} else {
    set title "Items per second through each bounded queue, 1 producer + 1 consumer"
}
set ylabel "million 64-byte items per second (median, min-max bars), log scale"
set logscale y
set format y "%g"
set offsets 0.6, 0.6, 0, 0
set boxwidth 0.6
set grid noxtics
set xtics nomirror
set key off
data = sprintf("< awk -F'\t' '!/^#/ && $1 != \"variant\"' '%s'", f)
plot data using 0:5:xtic(1) with boxes lt 1, \
     data using 0:5:6:7 with yerrorbars lt 7 pt 0, \
     data using 0:7:(sprintf("%.2f", $5)) with labels offset 0, 0.9 font ',10'
