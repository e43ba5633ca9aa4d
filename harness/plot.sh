#!/usr/bin/env bash
# plot.sh - draw figures: each plots/<name>.gp becomes <out>/<name>.svg and .png.
#
# Usage: harness/plot.sh [--data DIR] [--out DIR] [--svg-only] SCRIPT.gp...
#   --data DIR   where the scripts read their TSV files (default: results)
#   --out DIR    where the figures go (default: plots/out)
#   --svg-only   the SVG alone, no PNG (for a check that reads only the SVG's words)
# Without gnuplot it says the figures were skipped and exits 0; a script whose TSV file is
# missing (make chapterN ARGS="--only NAME" runs one experiment) is skipped with a note.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=results out=plots/out png=1
while [ $# -gt 0 ]; do
    case "$1" in
    --data) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --svg-only) png=""; shift ;;
    --*) echo "plot.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: harness/plot.sh [--data DIR] [--out DIR] [--svg-only] SCRIPT.gp..." >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
    echo "figures skipped: gnuplot is not installed (make deps)" >&2
    exit 0
fi
mkdir -p "$out"
export GNUPLOT_LIB="$root/plots"
status=0
for script in "$@"; do
    name=$(basename "$script" .gp)
    # a script names the tables it reads as datadir.'/chNN-x.tsv'; --only NAME writes just one
    missing=$(grep -o "datadir\.'/[^']*'" "$script" | sed "s|datadir\.'/||; s|'\$||" | sort -u |
        while read -r table; do [ -f "$data/$table" ] || echo "$table"; done)
    if [ -n "$missing" ]; then
        echo "figure skipped: $name (no $data/$(head -1 <<<"$missing"); that experiment did not run)"
        continue
    fi
    for term in svg ${png:+png}; do
        file="$out/$name.$term"
        if ! gnuplot -e "datadir='$data'; outfile='$file'; term='$term'" "$script"; then
            rm -f "$file"      # a failed gnuplot leaves a half-written file behind
            echo "plot.sh: $script failed" >&2
            status=1
        fi
    done
    [ $status -eq 0 ] && echo "figure: $out/$name.svg${png:+ (and .png)}"
done
exit $status
