#!/usr/bin/env bash
# rect-cluster.sh - chapter 6's count as independent jobs through GNU parallel.
#
# Usage: harness/rect-cluster.sh R N [GNU parallel options...]
#   Runs `ch06-rectangles R N --task K/T` for K = 1..T as T jobs, each writing its rows to its own
#   result file, with a job log and retries; then checks that every task appears exactly once,
#   re-runs a random sample of tasks here and requires identical rows, and adds the rows up
#   exactly (`ch06-rectangles R N --merge`).
#     on this machine:    harness/rect-cluster.sh 5 8 -j2
#     on several:         harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2
#     resume a failed run (only the jobs that failed or never ran; the other results are kept):
#                         harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2 --resume-failed
#   With --sshlogin (-S, --sshloginfile, --slf) each job ships the program to a fresh directory on
#   its host (--workdir ... --transferfile), runs it there and brings its result file back
#   (--return, --cleanup): the hosts need ssh, rsync and perl, nothing of the kit. A login that
#   fails is retried on another one (--retries: parallel prefers a host where the job has not
#   failed yet). Pass --ssh CMD for a non-default ssh command.
# Environment:
#   RECT_JOBS=T      how many jobs (default 16; more jobs than tasks leaves some empty)
#   RECT_SPLIT=S     cycle-type (default), cycle-type-fine (R >= 4) or first-column
#   RECT_RETRIES=N   attempts per job before the run fails (default 3)
#   RECT_TIMEOUT=S   seconds one attempt may run before parallel kills it and counts it failed
#                    (default 3600), so one stuck job or host cannot hang the whole run
#   RECT_SAMPLE=K    tasks re-run here to check the jobs' rows (default: a tenth of the tasks,
#                    at least 1; 0 = none; all = every task, a full second count)
#   RECT_SEED=S      seed of that sample (default: drawn and printed, so a run can be repeated)
#   RECT_OUT=DIR     the job log and the results go here (default results)
#   RECT_PROGRAM=P   the program the jobs run (default build/ch06-rectangles; the tests pass
#                    wrappers that fail, hang or lie). The sample is always re-run with the
#                    kit's own build, so a wrong job program cannot check itself.
# Writes DIR/ch06-cluster-R-N.joblog (parallel's --joblog), DIR/ch06-cluster-R-N/job-K.tsv (one
# result file per job) and DIR/ch06-cluster-R-N.rows.tsv (all rows, in task order).
# Exit: 0 merged and checked, 1 a job failed after its retries or a check failed, 2 usage.
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
timeout=${RECT_TIMEOUT:-3600} sample=${RECT_SAMPLE:-tenth} seed=${RECT_SEED:-$((RANDOM * 32768 + RANDOM))}
[[ $jobs =~ ^[1-9][0-9]*$ && $retries =~ ^[1-9][0-9]*$ && $timeout =~ ^[1-9][0-9]*$ ]] || {
    echo "rect-cluster.sh: RECT_JOBS, RECT_RETRIES and RECT_TIMEOUT must be positive whole numbers" >&2
    usage
}
[[ $sample =~ ^([0-9]+|all|tenth)$ && $seed =~ ^[0-9]+$ ]] || {
    echo "rect-cluster.sh: RECT_SAMPLE must be a whole number or all, RECT_SEED a whole number" >&2
    usage
}
checker=${KIT_BUILD:-$root/build}/ch06-rectangles
program=${RECT_PROGRAM:-$checker}
[ -x "$program" ] || { echo "rect-cluster.sh: $program is not built (make)" >&2; exit 1; }
[ -x "$checker" ] || { echo "rect-cluster.sh: $checker is not built (make)" >&2; exit 1; }
command -v parallel >/dev/null || { echo "rect-cluster.sh: GNU parallel is not installed (make deps)" >&2; exit 1; }

remote=() resume=false
for arg in "$@"; do
    case $arg in
    --sshlogin | --sshlogin=* | -S | -S?* | --sshloginfile | --sshloginfile=* | --slf | --slf=*)
        # a fresh directory per job on its host; the program goes there, the result comes back
        remote=(--workdir ... --transferfile ch06-rectangles --return 'job-{}.tsv' --cleanup) ;;
    --resume-failed | --resume) resume=true ;;
    esac
done
if [ ${#remote[@]} -gt 0 ] && ! command -v rsync >/dev/null; then
    echo "rect-cluster.sh: rsync is not installed (parallel ships files with it)" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
joblog="$out/ch06-cluster-$r-$n.joblog"
rows="$out/ch06-cluster-$r-$n.rows.tsv"
dir="$out/ch06-cluster-$r-$n"
if $resume; then
    [ -f "$joblog" ] || { echo "rect-cluster.sh: nothing to resume: $joblog does not exist" >&2; exit 1; }
else
    rm -rf "$joblog" "$dir"
fi
rm -f "$rows"
mkdir -p "$dir"
cp "$program" "$dir/ch06-rectangles"

# One job per K. A job writes job-K.tsv.part and renames it only when the program succeeded, so
# a killed or failed attempt leaves no result file behind, and a retry simply writes it again.
echo "rect-cluster: ($r,$n) $split split as $jobs jobs, up to $retries attempts of at most" \
    "$timeout s each; job log $joblog" >&2
if ! (cd "$dir" && seq 1 "$jobs" | PARALLEL=--will-cite parallel --joblog "$joblog" \
    --retries "$retries" --timeout "$timeout" --halt soon,fail=1 "${remote[@]}" "$@" \
    "./ch06-rectangles $r $n --split $split --task {}/$jobs >job-{}.tsv.part" \
    "&& mv job-{}.tsv.part job-{}.tsv"); then
    echo "rect-cluster: a job failed after $retries attempts of at most $timeout s (see $joblog;" \
        "rerun with --resume-failed to run only the jobs that did not finish)" >&2
    exit 1
fi

# Every job's file whole, every task exactly once, each in the job that owns it: a task missing,
# run twice or cut short would make the sum wrong. Rows go to $rows in task order.
files=()
for k in $(seq 1 "$jobs"); do
    [ -f "$dir/job-$k.tsv" ] || { echo "rect-cluster: job $k of $jobs has no result file" \
        "$dir/job-$k.tsv (rerun with --resume-failed)" >&2; exit 1; }
    files+=("$dir/job-$k.tsv")
done
awk -F'\t' -v jobs="$jobs" -v rows="$rows" '
    FNR == 1 { job++; if ($1 != "task") { bad = 1; printf "rect-cluster: %s: no header row\n", FILENAME > "/dev/stderr" } }
    $1 == "task" || /^#/ { next }
    {
        where = FILENAME ":" FNR
        if (NF != 10 || $1 !~ /^[0-9]+$/ || $10 !~ /^[0-9.]+$/) {
            printf "rect-cluster: %s: task %s: the row is cut short or damaged (%d of 10 fields)\n", where, $1, NF > "/dev/stderr"
            bad = 1; next
        }
        tasks = $2
        if ($1 % jobs != job - 1) {
            printf "rect-cluster: %s: task %d does not belong to job %d\n", where, $1, job > "/dev/stderr"
            bad = 1
        }
        if ($1 in seen) {
            printf "rect-cluster: task %d appears twice (%s and %s)\n", $1, seen[$1], where > "/dev/stderr"
            bad = 1
        }
        seen[$1] = where; row[$1] = $0
    }
    END {
        if (bad) exit 1
        if (tasks == "") { print "rect-cluster: no task rows at all" > "/dev/stderr"; exit 1 }
        print "task\ttasks\tsplit\tr\tn\tlabel\tweight\tpositive\tnegative\tseconds" > rows
        for (t = 0; t < tasks; t++) {
            if (!(t in seen)) { printf "rect-cluster: task %d is missing\n", t > "/dev/stderr"; bad = 1 }
            else print row[t] > rows
        }
        if (bad) exit 1
        printf "rect-cluster: all %d tasks exactly once\n", tasks > "/dev/stderr"
    }' "${files[@]}"

# A job can return a well-formed but wrong row (a faulty host, a wrong program): re-run a random
# sample of tasks with this machine's own build and require identical rows (all but the time).
tasks=$(awk -F'\t' 'NR == 2 { print $2 }' "$rows")
case $sample in
tenth) sample=$(((tasks + 9) / 10)) ;;
all) sample=$tasks ;;
esac
[ "$sample" -le "$tasks" ] || sample=$tasks
checks="every task exactly once"
if [ "$sample" -gt 0 ]; then
    picked=$(awk -v n="$tasks" -v k="$sample" -v seed="$seed" 'BEGIN {
        srand(seed)   # a partial Fisher-Yates shuffle: k distinct tasks
        for (i = 0; i < n; i++) p[i] = i
        for (i = 0; i < k; i++) { j = i + int(rand() * (n - i)); t = p[i]; p[i] = p[j]; p[j] = t; print p[i] }
    }' | sort -n)
    echo "rect-cluster: re-running $sample of $tasks tasks here (RECT_SEED=$seed)" >&2
    for t in $picked; do
        want=$("$checker" "$r" "$n" --split "$split" --task "$((t + 1))/$tasks" | awk -F'\t' 'NR == 2')
        got=$(awk -F'\t' -v t="$t" '$1 == t' "$rows")
        if [ "$(cut -f1-9 <<<"$want")" != "$(cut -f1-9 <<<"$got")" ]; then
            echo "rect-cluster: task $t: the job's row differs from a run here (RECT_SEED=$seed):" >&2
            echo "  job:  $(cut -f1-9 <<<"$got")" >&2
            echo "  here: $(cut -f1-9 <<<"$want")" >&2
            echo "verification failed: task $t's row is wrong" >&2
            exit 1
        fi
    done
    checks="$checks; $sample of $tasks tasks re-run here, identical (RECT_SEED=$seed)"
fi
"$checker" "$r" "$n" --split "$split" --merge "$rows"
if [ "$sample" -gt 0 ]; then
    echo "rect-cluster: verified: $checks"
else
    echo "rect-cluster: checked: $checks; no task re-run (RECT_SAMPLE=0), so a wrong row would" \
        "pass unless the merge knows this size's total"
fi
