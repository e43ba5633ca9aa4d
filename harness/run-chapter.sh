#!/usr/bin/env bash
# run-chapter.sh - what `make chapterN` does: deps check, build, run, draw.
#
# Usage: harness/run-chapter.sh N [program options...]
#   Runs build/chNN-<name> under timeout (KIT_TIMEOUT seconds, default 600; --full: 7200),
#   writes its TSV files to results/ (or the --out DIR given), draws plots/chNN-*.gp.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-}
shift || true
case "$n" in
[1-9] | 10) ;;
*) echo "run-chapter.sh: chapter must be 1 to 10, not '$n'" >&2; exit 2 ;;
esac
nn=$(printf %02d "$n")
dir=$(ls -d chapters/"$nn"-*/ 2>/dev/null | head -1 || true)
if [ -z "$dir" ] || ! ls "$dir"*.c >/dev/null 2>&1; then
    echo "chapter $n is not written yet (see the chapter table in README.md)" >&2
    exit 2
fi
name=$(basename "$dir")
build=${KIT_BUILD:-build}          # absolute when make exports it
program=$build/ch$name

harness/deps.sh chapter
make -s BUILD="$build" "$program"  # the same directory on both sides, or make has no rule for it

out=results timeout=${KIT_TIMEOUT:-600}
prev=
for arg in "$@"; do
    [ "$prev" = --out ] && out=$arg
    case "$arg" in --out=*) out=${arg#--out=} ;; --full) timeout=${KIT_TIMEOUT:-7200} ;; esac
    prev=$arg
done
# the program's own --out wins over ours when ARGS gives one
timeout --signal=INT --kill-after=10 "$timeout" "$program" --out results "$@"
shopt -s nullglob
scripts=(plots/ch"$nn"-*.gp)
[ ${#scripts[@]} -gt 0 ] && harness/plot.sh --data "$out" "${scripts[@]}"
exit 0
