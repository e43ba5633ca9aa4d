# ch07-occupancy: items in the queue over time when one side is faster: the bound at work.
load "style.gp"
f = datadir.'/ch07-occupancy.tsv'
eval stamp(f)
t = datadir.'/ch07-imbalance.tsv'
peak(c) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" { print $7 }' '%s'", c, t)))
cap = real(system(sprintf("awk -F'\t' '$1 == \"producer-4x-faster\" { print $3 }' '%s'", t)))
held = peak('producer-4x-faster')
# The curves are one trial's samples; the imbalance table's peak is the median over the trials.
drawn = real(system(sprintf("awk -F'\t' '$1 == \"producer-4x-faster-unbounded\" && $3 > m \
    { m = $3 } END { print m + 0 }' '%s'", f)))
# "fills the bound" only when the measured peak reached the capacity
if (held >= cap) {
    set title sprintf("A 4x faster producer fills the bound (%.0f items) and waits; without a bound \
the queue\ngrows to %.0f items in the trial drawn (median peak over the trials: %.0f)", \
        held, drawn, peak('producer-4x-faster-unbounded'))
} else {
    set title sprintf("A 4x faster producer held at most %.0f items of the bound's %.0f; without a \
bound the queue\ngrows to %.0f items in the trial drawn (median peak over the trials: %.0f)", \
        held, cap, drawn, peak('producer-4x-faster-unbounded'))
}
set xlabel "time since the producer started, ms"
set ylabel "items in the queue (sampled), log scale"
set logscale y
set format y "%g"
set yrange [0.8:*]
set key top left
cases = "producer-4x-faster consumer-4x-faster producer-4x-faster-unbounded"
plot for [i = 1:words(cases)] rows(f, word(cases, i)) using 2:($3 + 1) with lines lt i title word(cases, i).' (items + 1)'
