# ch04-per-increment: ns per increment of a shared count, per variant, P = 1, CPUs, 2 x CPUs.
load "style.gp"
f = datadir.'/ch04-per-increment.tsv'
eval stamp(f)
# the worker counts in the file (1, CPUs, 2 x CPUs) and the middle one for the title
ps = system(sprintf("awk -F'\t' '!/^#/ && $1 != \"variant\" { print $2 }' '%s' | sort -nu | tr '\\n' ' '", f))
n = words(ps)
mid = word(ps, n > 1 ? 2 : 1)
# a variant's median at P, or 0 when --variant left it out
cost(v, p) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" && $2 == %s { m = $5 } END { print m + 0 }' '%s'", v, p, f)))
mutex = cost('mutex', mid)
batched = cost('batched', mid)
if (mutex > 0 && batched > 0) {
    set title sprintf("A mutex per increment costs %.0fx counting locally and adding once (P = %s)", mutex / batched, mid)
} else {
    set title "Sharing a count between processes: ns per increment, by strategy"
}
set ylabel "ns per increment: wall time / (P x I), log scale"
set logscale y
set format y "%g"
set grid noxtics
set xtics rotate by -25 scale 0
set key top right
set style fill solid 0.8 border -1
width = 0.8 / n
set boxwidth width
set offsets 0.5, 0.5, 0, 0
# one row per variant at P: index (order of appearance), variant, median, min, max
at(p) = sprintf("< awk -F'\t' '!/^#/ && $1 != \"variant\" { if (!($1 in seen)) seen[$1] = k++; if ($2 == %s) print seen[$1] \"\t\" $1 \"\t\" $5 \"\t\" $6 \"\t\" $7 }' '%s'", p, f)
shift(i) = (i - (n + 1) / 2.0) * width
plot for [i=1:n] at(word(ps, i)) using ($1 + shift(i)):3 with boxes lt i title sprintf("P = %s", word(ps, i)), \
     for [i=1:n] at(word(ps, i)) using ($1 + shift(i)):3:4:5 with yerrorbars lt 7 pt 0 notitle, \
     at(word(ps, 1)) using 1:(NaN):xtic(2) notitle
