#!/usr/bin/env bash
# figures.sh - what `make figures` does: run every written chapter (or the ones named) at
# classroom size, one after the other (never side by side: they would measure each other),
# then draw their figures into plots/out/.
#
# Usage: harness/figures.sh [--reference] [N ...]
#   N ...        only these chapters (default: every written chapter)
#   --reference  also copy their SVG figures to plots/reference/ (the ones book.md embeds), their
#                TSVs and terminal output to plots/reference/data/ (where the book's numbers come
#                from), and record, per chapter, the run in plots/reference/MACHINE.md
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage() { echo "usage: harness/figures.sh [--reference] [N ...]" >&2; exit 2; }
reference=0 chosen=()
for arg in "$@"; do
    case "$arg" in
    --reference) reference=1 ;;
    [1-9] | 10) chosen+=("$arg") ;;
    *) usage ;;
    esac
done

written=()
for d in chapters/[0-9][0-9]-*/; do
    ls "$d"*.c >/dev/null 2>&1 && written+=("$((10#$(basename "$d" | cut -c1-2)))")
done
[ ${#chosen[@]} -gt 0 ] || chosen=("${written[@]}")
for n in "${chosen[@]}"; do
    [[ " ${written[*]} " == *" $n "* ]] || { echo "figures.sh: chapter $n is not written yet" >&2; exit 2; }
done
if [ $reference -eq 1 ]; then
    command -v gnuplot >/dev/null || { echo "figures.sh: --reference needs gnuplot" >&2; exit 1; }
fi

machine_file=plots/reference/MACHINE.md
# One table row per chapter: | N | date | git | load before | machine |
record_run() {
    local n=$1 load=$2 nn tsv header
    nn=$(printf %02d "$n")
    tsv=$(ls results/ch"$nn"-*.tsv | head -1)
    header=$(sed -n '2s/^# //p' "$tsv")
    local date git machine
    date=$(tr ' ' '\n' <<<"$header" | sed -n 's/^date=//p')
    git=$(tr ' ' '\n' <<<"$header" | sed -n 's/^git=//p')
    machine=$(tr ' ' '\n' <<<"$header" | grep -v -e '^date=' -e '^git=' | tr '\n' ' ' | sed 's/ $//')
    local rows=()
    [ -f "$machine_file" ] && mapfile -t rows < <(grep -E '^\| [0-9]+ \|' "$machine_file" | grep -v -E "^\| $n \|")
    rows+=("| $n | $date | $git | $load | $machine |")
    {
        echo "# Where the reference figures came from"
        echo
        echo "Made by \`make figures REFERENCE=1\` (every chapter, one after another) or"
        echo "\`make figures REFERENCE=1 CHAPTERS=\"N ...\"\` (those chapters). One row per chapter: the run"
        echo "its figures (and the book's numbers quoted as *reference*) came from."
        echo
        echo "| chapter | date (UTC) | git | load average before | machine |"
        echo "|---|---|---|---|---|"
        printf '%s\n' "${rows[@]}" | sort -t'|' -k2,2n
    } >"$machine_file.new"
    mv "$machine_file.new" "$machine_file"
}

# Two figure runs at once would measure each other: the second waits for the first.
exec 9>"${TMPDIR:-/tmp}/kit-figures.lock"
flock 9

data=plots/reference/data
for n in "${chosen[@]}"; do
    echo "== chapter $n" >&2
    nn=$(printf %02d "$n")
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    mkdir -p results                # tee opens its file before the program would make the directory
    rm -f results/ch"$nn"-*.tsv
    harness/run-chapter.sh "$n" | tee results/ch"$nn"-output.txt
    if [ $reference -eq 1 ]; then
        # the figures, and the data and terminal output the book's numbers are read from
        mkdir -p plots/reference "$data"
        # a chapter's Python figure is drawn from its twin's committed peers run, not this one
        find plots/out -maxdepth 1 -name "ch$nn-*.svg" ! -name "ch$nn-python*" \
            -exec cp {} plots/reference/ \;
        # the chapter's own tables only: the data of its Python twin, its peers, its labs,
        # its cluster runs, its quiet re-runs and its runs on other machines (chNN-on-MACHINE-*)
        # come from other commands and stay
        find "$data" -maxdepth 1 -name "ch$nn-*" ! -name "ch$nn-python-*" ! -name "ch$nn-peers*" \
            ! -name "ch$nn-labs*" ! -name "ch$nn-cluster*" ! -name "ch$nn-quiet*" \
            ! -name "ch$nn-on-*" -delete
        cp results/ch"$nn"-*.tsv results/ch"$nn"-output.txt "$data"/
        record_run "$n" "$load_before"
    fi
done
[ $reference -eq 1 ] && echo "reference figures: plots/reference/ ($(ls plots/reference/*.svg | wc -l) SVG files)"
exit 0
