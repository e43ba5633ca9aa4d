# style.gp - one look for every figure.
#
# harness/plot.sh runs each script as
#   gnuplot -e "datadir='results'; outfile='plots/out/NAME.svg'; term='svg'" plots/NAME.gp
# and the script starts with:  load "style.gp"
# Then, for a data file f:  set label 100 machine(f) ...  (see stamp below)
if (!exists("term")) term = 'svg'
if (!exists("datadir")) datadir = 'results'
if (!exists("outfile")) outfile = 'plot.'.term

# An opaque white background: on a dark page (a dark editor or browser theme) a transparent
# figure's black text and axes would disappear.
if (term eq 'png') {
    set terminal pngcairo size 1200,750 font 'DejaVu Sans,13' noenhanced background rgb 'white'
} else {
    set terminal svg size 900,560 dynamic font 'DejaVu Sans,12' noenhanced background rgb 'white'
}
set output outfile

set datafile separator tab
set datafile commentschars '#'
set key noenhanced top left box opaque
set title noenhanced font ',14'
set grid ytics xtics lc rgb '#dddddd' lt 1
set border 3
set tics nomirror
set style fill solid 0.75 border -1
set bmargin 5

# A colour-blind-safe palette (Okabe-Ito), the same order in every figure.
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 0.8
set linetype 2 lc rgb '#D55E00' lw 2 pt 5 ps 0.8
set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 0.9
set linetype 4 lc rgb '#CC79A7' lw 2 pt 11 ps 0.9
set linetype 5 lc rgb '#E69F00' lw 2 pt 13 ps 0.9
set linetype 6 lc rgb '#56B4E9' lw 2 pt 3 ps 0.9
set linetype 7 lc rgb '#000000' lw 2 pt 1 ps 0.9
set linetype 8 lc rgb '#999999' lw 1.5 dt 2 pt 0
set linetype cycle 8

# The machine the data came from, from the TSV's second metadata line.
machine(f) = system(sprintf("sed -n '2{s/^# //;s/_/ /g;s/ git=.*//;p;q}' '%s'", f))
# A value from the metadata block, e.g. meta(f, 'effective_cpus').
meta(f, key) = system(sprintf("sed -n 's/.*[# ]%s=\\([^ ]*\\).*/\\1/p' '%s' | head -1", key, f))
stamp(f) = sprintf("set label 100 \"%s\" at screen 0.01, screen 0.02 font ',8' tc rgb '#666666' noenhanced", machine(f))

# One variant's rows (a filter, so its points join into one line):
#   plot rows(f, 'fork') using 2:5:6:7 with yerrorlines
rows(f, variant) = sprintf("< awk -F'\t' '$1 == \"%s\"' '%s'", variant, f)
