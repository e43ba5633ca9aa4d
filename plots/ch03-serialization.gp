# ch03-serialization: sending N integers, time per phase (encode, transfer, decode), per format.
load "style.gp"
f = datadir.'/ch03-serialization.tsv'
eval stamp(f)
# one line per format: format, encode, transfer, decode (medians, ms), in the file's order
pivot = sprintf("< awk -F'\t' '$1 ~ /\\/(encode|transfer|decode)$/ { split($1, p, \"/\"); \
    if (!(p[1] in seen)) { order[++n] = p[1]; seen[p[1]] = 1 } v[p[1], p[2]] = $5 } \
    END { for (i = 1; i <= n; i++) print order[i] \"\t\" v[order[i], \"encode\"] \"\t\" \
    v[order[i], \"transfer\"] \"\t\" v[order[i], \"decode\"] }' '%s'", f)
ints = real(system(sprintf("awk -F'\t' '$1 == \"text/total\" { printf \"%%d\", $2; exit }' '%s'", \
    f)))
text_share = real(system(sprintf("awk -F'\t' '$1 == \"text/share\" { print $5; exit }' '%s'", f)))
set title sprintf("Sending %.0f integers: as text, %.0f%% of the time is encoding and decoding; \
in place, nothing is copied", ints, text_share)
set ylabel "milliseconds (median per phase)"
set yrange [0:*]
set style data histograms
set style histogram rowstacked
set boxwidth 0.6
set grid noxtics
set key top right
plot pivot using 2:xtic(1) lt 5 title 'encode (sender)', \
     '' using 3 lt 1 title 'transfer (pipe, or a notice)', \
     '' using 4 lt 3 title 'decode (receiver)', \
     '' using 0:($2 + $3 + $4):(sprintf("%.2f ms", $2 + $3 + $4)) \
        with labels offset 0, 0.8 font ',10' notitle
