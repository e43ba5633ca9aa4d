#!/usr/bin/env bash
# rect-cluster.sh - chapter 6's count as independent jobs through GNU parallel.
#
# Usage: harness/rect-cluster.sh R N [GNU parallel options...]
#   Runs `ch06-rectangles R N --task K/T` for K = 1..T as T jobs (each prints one TSV row per
#   task it ran), with a job log and retries, then checks that every task appears exactly once
#   and adds the rows up exactly (`ch06-rectangles R N --merge`, which verifies the count).
#     on this machine:    harness/rect-cluster.sh 5 8 -j2
#     on several:         harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2 --workdir .
#                         (build/ch06-rectangles must exist at the same path on every host, or
#                          add --basefile build/ch06-rectangles)
# Environment:
#   RECT_JOBS=T      how many jobs (default 16; more jobs than tasks leaves some empty)
#   RECT_SPLIT=S     cycle-type (default), cycle-type-fine (R >= 4) or first-column
#   RECT_RETRIES=N   attempts per job before the run fails (default 3)
#   RECT_TIMEOUT=S   seconds one attempt may run before parallel kills it and counts it failed
#                    (default 3600), so one stuck job or host cannot hang the whole run
#   RECT_OUT=DIR     the job log and the rows go here (default results)
#   RECT_PROGRAM=P   the program (default build/ch06-rectangles; the tests pass one that fails once)
# Writes DIR/ch06-cluster-R-N.joblog (parallel's --joblog) and DIR/ch06-cluster-R-N.rows.tsv.
# Exit: 0 merged and verified, 1 a job failed after its retries or the merge failed, 2 usage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    echo "usage: harness/rect-cluster.sh R N [GNU parallel options...]  (see the header for RECT_* variables)" >&2
    exit 2
}
[ $# -ge 2 ] || usage
r=$1 n=$2
shift 2
if ! [[ $r =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] || [ "$r" -lt 2 ] || [ "$r" -gt "$n" ] || [ "$n" -gt 16 ]; then
    echo "rect-cluster.sh: R N: '$r $n' is not a size (accepted: 2 <= R <= N <= 16)" >&2
    usage
fi
jobs=${RECT_JOBS:-16} split=${RECT_SPLIT:-cycle-type} retries=${RECT_RETRIES:-3} out=${RECT_OUT:-results}
timeout=${RECT_TIMEOUT:-3600}
[[ $jobs =~ ^[1-9][0-9]*$ && $retries =~ ^[1-9][0-9]*$ && $timeout =~ ^[1-9][0-9]*$ ]] || {
    echo "rect-cluster.sh: RECT_JOBS, RECT_RETRIES and RECT_TIMEOUT must be positive whole numbers" >&2
    usage
}
program=${RECT_PROGRAM:-${KIT_BUILD:-$root/build}/ch06-rectangles}
[ -x "$program" ] || { echo "rect-cluster.sh: $program is not built (make)" >&2; exit 1; }
command -v parallel >/dev/null || { echo "rect-cluster.sh: GNU parallel is not installed (make deps)" >&2; exit 1; }
mkdir -p "$out"
joblog="$out/ch06-cluster-$r-$n.joblog"
rows="$out/ch06-cluster-$r-$n.rows.tsv"
rm -f "$joblog" "$rows"

# One job per K; a failed attempt's output is discarded by parallel, only the last attempt's kept.
echo "rect-cluster: ($r,$n) $split split as $jobs jobs, up to $retries attempts of at most" \
    "$timeout s each; job log $joblog" >&2
if ! seq 1 "$jobs" | PARALLEL=--will-cite parallel --joblog "$joblog" --retries "$retries" \
    --timeout "$timeout" --halt soon,fail=1 "$@" \
    "$program" "$r" "$n" --split "$split" --task "{}/$jobs" >"$rows"; then
    echo "rect-cluster: a job failed after $retries attempts of at most $timeout s (see $joblog)" >&2
    exit 1
fi

# Every task exactly once: a task missing or run twice would make the sum wrong.
awk -F'\t' '
    $1 == "task" || /^#/ { next }
    { tasks = $2; seen[$1]++ }
    END {
        if (tasks == "") { print "rect-cluster: no task rows at all" > "/dev/stderr"; exit 1 }
        for (t = 0; t < tasks; t++) {
            if (!(t in seen)) { printf "rect-cluster: task %d is missing\n", t > "/dev/stderr"; bad = 1 }
            else if (seen[t] > 1) { printf "rect-cluster: task %d appears %d times\n", t, seen[t] > "/dev/stderr"; bad = 1 }
        }
        if (bad) exit 1
        printf "rect-cluster: all %d tasks exactly once\n", tasks > "/dev/stderr"
    }' "$rows"
"$program" "$r" "$n" --split "$split" --merge "$rows"
