# peers: every comparison `make peers` made (results/peers.tsv), as peer / kit, against the
# +-25% band where an independent tool confirms the kit's number. Python rows are a price, not
# a check: they sit far from 1 by design and are drawn in their own colour.
load "style.gp"
f = datadir.'/peers.tsv'
eval stamp(f)
data = sprintf("< awk -F'\t' '!/^#/ && $1 != \"chapter\" && $6 > 0' '%s'", f)
n = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"chapter\" && $6 > 0' '%s' | wc -l", f)))
tools = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"chapter\" && $6 > 0 && \
    $5 !~ /python/' '%s' | wc -l", f)))
inside = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"chapter\" && $5 !~ /python/ && \
    $6 >= 0.75 && $6 <= 1.25' '%s' | wc -l", f)))
set label 101 sprintf("%.0f of %.0f checks by an independent tool agree with the kit within 25%%\n\
(and %.0f rows of Python beside C)", inside, tools, n - tools) \
    at screen 0.5, screen 0.96 center font ',14'
set tmargin 5
set bmargin 9
# the quantities' names are long: they get the left 45% of the width, the ratios the rest
set lmargin at screen 0.45
set rmargin at screen 0.95
set xlabel "ratio peer / kit (log scale; 1 = the same number)"
set logscale x 10
set format x "%g"
set yrange [-0.7:n - 0.3]
set ytics font ',8' nomirror
set grid xtics noytics
set object 1 rect from 0.75, graph 0 to 1.25, graph 1 fc rgb '#009E73' fs transparent solid 0.15 \
    noborder behind
set arrow 1 from 1, graph 0 to 1, graph 1 nohead lt 8
set key at screen 0.75, screen 0.07 center vertical font ",10" maxrows 3
label(c, q) = sprintf("ch%s %s", c, q)
python(t) = strstrt(t, 'python') > 0
plot data using (python(strcol(5)) ? NaN : $6):0:ytic(label(strcol(1), strcol(2))) \
        with points lt 1 pt 7 ps 1.2 title 'independent tool (perf, stress-ng, ...)', \
     data using (python(strcol(5)) ? $6 : NaN):0 with points lt 2 pt 5 ps 1.1 \
        title 'Python beside C (the price of the Python layer)', \
     1/0 with boxes lc rgb '#009E73' fs transparent solid 0.15 title 'within +-25%'
