#!/usr/bin/env bash
# figures.sh - what `make figures` does: run every written chapter at classroom size,
# one after the other (never side by side: they would measure each other), then draw
# every figure into plots/out/.
#
# Usage: harness/figures.sh [--reference]
#   --reference  also copy the SVG figures to plots/reference/ (the ones book.md embeds)
#                and record the machine they came from in plots/reference/MACHINE.md
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
reference=0
case "${1:-}" in
--reference) reference=1 ;;
"") ;;
*) echo "usage: harness/figures.sh [--reference]" >&2; exit 2 ;;
esac

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
written=()
for d in chapters/[0-9][0-9]-*/; do
    ls "$d"*.c >/dev/null 2>&1 && written+=("$((10#$(basename "$d" | cut -c1-2)))")
done
for n in "${written[@]}"; do
    echo "== chapter $n" >&2
    harness/run-chapter.sh "$n"
done

if [ $reference -eq 1 ]; then
    command -v gnuplot >/dev/null || { echo "figures.sh: --reference needs gnuplot" >&2; exit 1; }
    mkdir -p plots/reference
    cp plots/out/*.svg plots/reference/
    {
        echo "# Where the reference figures came from"
        echo
        echo "Made by \`make figures REFERENCE=1\` on $(date -u +%Y-%m-%d)."
        echo
        echo '```'
        sed -n '2s/^# //p' "$(ls results/*.tsv | head -1)" | tr ' ' '\n'
        echo "load average before the run: $load_before"
        echo '```'
    } >plots/reference/MACHINE.md
    echo "reference figures: plots/reference/ ($(ls plots/reference/*.svg | wc -l) SVG files)"
fi
