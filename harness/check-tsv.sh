#!/usr/bin/env bash
# check-tsv.sh - check that TSV files follow the kit's format (DESIGN.md, "Output data").
#
# Usage: harness/check-tsv.sh FILE...
#   Metadata: '# chapter=NN program=... experiment=... mode=...', then '# host=... cpus=...',
#   then '# args=...'. A measurement table (one with a '# x=' line) has exactly the columns
#   variant x unit n median min max mean stddev, numeric where they must be, n >= 1 and
#   min <= median <= max. A special table needs a header row and the same number of fields
#   on every row. Prints one line per problem; exits 1 if there is any.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: harness/check-tsv.sh FILE..." >&2; exit 2; }
status=0
for f in "$@"; do
    awk -F'\t' -v file="$f" '
    function bad(msg) { printf "%s:%d: %s\n", file, NR, msg; errors++ }
    function number(s) { return s ~ /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ || s == "inf" || s == "nan" }
    NR == 1 && $0 !~ /^# chapter=[0-9][0-9] program=[^ ]+ experiment=[^ ]+ mode=(quick|default|full)$/ { bad("first line must be # chapter=NN program=... experiment=... mode=...") }
    NR == 2 && $0 !~ /^# host=[^ ]* cpus=[0-9]+ model=[^ ]* kernel=[^ ]* date=[^ ]* git=[^ ]*$/ { bad("second line must be # host=... cpus=N model=... kernel=... date=... git=...") }
    NR == 3 && $0 !~ /^# args=/ { bad("third line must be # args=...") }
    /^# x=/ { measurement = 1 }
    /^#/ { next }
    !header {
        header = $0; fields = NF
        if (measurement && header != "variant\tx\tunit\tn\tmedian\tmin\tmax\tmean\tstddev")
            bad("a measurement table needs the columns variant x unit n median min max mean stddev")
        next
    }
    {
        rows++
        if (NF != fields) { bad(sprintf("%d fields, the header has %d", NF, fields)); next }
        if (!measurement) next
        if ($1 == "") bad("empty variant")
        for (i = 4; i <= 9; i++) if (!number($i)) bad(sprintf("column %d is not a number: %s", i, $i))
        if (!number($2)) bad("x is not a number: " $2)
        if ($4 < 1) bad("n must be at least 1")
        if ($6 + 0 > $5 + 0 || $5 + 0 > $7 + 0) bad("needs min <= median <= max")
    }
    END {
        if (!header) bad("no header row")
        else if (!rows) bad("no data rows")
        exit errors > 0
    }' "$f" || status=1
done
exit $status
