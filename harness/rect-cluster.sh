#!/usr/bin/env bash
# rect-cluster.sh - chapter 6's count as independent jobs through GNU parallel.
#
# Usage: harness/rect-cluster.sh R N [GNU parallel options...]
#   Runs `ch06-rectangles R N --task K/T` for K = 1..T as T jobs, each job's rows kept in its own
#   result file, with a job log and retries; then checks that every task appears exactly once,
#   re-runs a random sample of tasks here and requires identical rows, and adds the rows up
#   exactly (`ch06-rectangles R N --merge`).
#     on this machine:    harness/rect-cluster.sh 5 8 -j2
#     on several:         harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2
#     resume a failed run (only the jobs that failed or never ran; the other results are kept):
#                         harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2 --resume-failed
#     every task twice:   RECT_REDUNDANCY=2 harness/rect-cluster.sh 5 8 --sshlogin 2/host1,2/host2
#   With --sshlogin (-S, --sshloginfile, --slf) the program is copied once to each login, into a
#   directory of this run (--basefile, --workdir), and removed at the end (--cleanup); each job
#   is one ssh session through one shared connection per login (--controlmaster) and its rows
#   come back as its output (--results): the hosts need ssh, rsync and perl, nothing of the kit.
#   A job whose attempt fails is retried on another login (--retries: parallel prefers a login
#   where the job has not failed yet). Pass --ssh CMD for a non-default ssh command; a wrapper
#   script must `exec ssh ...`, or parallel cannot stop the shared connections it started.
# Environment:
#   RECT_JOBS=T      how many jobs (default 16; more jobs than tasks leaves some empty)
#   RECT_SPLIT=S     cycle-type (default), cycle-type-fine (R >= 4) or first-column
#   RECT_RETRIES=N   attempts per job before the run fails (default 3)
#   RECT_TIMEOUT=S   seconds one attempt may run before parallel kills it and counts it failed
#                    (default 3600), so one stuck job or host cannot hang the whole run
#   RECT_SAMPLE=K    tasks re-run here to check the jobs' rows (default: a tenth of the tasks,
#                    at least 1; 0 = none; all = every task, a full second count)
#   RECT_SEED=S      seed of that sample (default: drawn and printed, so a run can be repeated)
#   RECT_REDUNDANCY=2  run every job a second time on a login other than its first run's and
#                    require identical rows (default 1: once; needs two logins or more)
#   RECT_OUT=DIR     the job logs and the results go here (default results)
#   RECT_PROGRAM=P   the program the jobs run (default build/ch06-rectangles; the tests pass
#                    wrappers that fail, hang or lie). The sample is always re-run with the
#                    kit's own build, so a wrong job program cannot check itself.
# Writes DIR/ch06-cluster-R-N.joblog (parallel's --joblog), DIR/ch06-cluster-R-N/job-K.tsv (one
# result file per job, there only when the job succeeded), DIR/ch06-cluster-R-N.rows.tsv (all
# rows, in task order); with RECT_REDUNDANCY=2 also ch06-cluster-R-N.twin.joblog and
# ch06-cluster-R-N/twin/job-K.tsv, the second runs.
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
redundancy=${RECT_REDUNDANCY:-1}
[[ $jobs =~ ^[1-9][0-9]*$ && $retries =~ ^[1-9][0-9]*$ && $timeout =~ ^[1-9][0-9]*$ ]] || {
    echo "rect-cluster.sh: RECT_JOBS, RECT_RETRIES and RECT_TIMEOUT must be positive whole numbers" >&2
    usage
}
[[ $sample =~ ^([0-9]+|all|tenth)$ && $seed =~ ^[0-9]+$ ]] || {
    echo "rect-cluster.sh: RECT_SAMPLE must be a whole number or all, RECT_SEED a whole number" >&2
    usage
}
[[ $redundancy =~ ^[12]$ ]] || { echo "rect-cluster.sh: RECT_REDUNDANCY must be 1 or 2" >&2; usage; }
checker=${KIT_BUILD:-$root/build}/ch06-rectangles
program=${RECT_PROGRAM:-$checker}
[ -x "$program" ] || { echo "rect-cluster.sh: $program is not built (make)" >&2; exit 1; }
[ -x "$checker" ] || { echo "rect-cluster.sh: $checker is not built (make)" >&2; exit 1; }
command -v parallel >/dev/null || { echo "rect-cluster.sh: GNU parallel is not installed (make deps)" >&2; exit 1; }

# The logins named on the command line, counted so that redundancy 2 is refused before any work
# when there is no second login to run a task's twin on.
remote=() over_ssh=false resume=false logins=0 want_login=false file_next=false
count_logins() { tr ',' '\n' <<<"$1" | grep -c '[^[:space:]]' || true; }
for arg in "$@"; do
    if $want_login; then
        logins=$((logins + $(count_logins "$arg"))); want_login=false
    elif $file_next; then
        logins=$((logins + $(grep -c '^[^#[:space:]]' "$arg" || true))); file_next=false
    fi
    case $arg in
    --sshlogin | -S) want_login=true ;;
    --sshlogin=*) logins=$((logins + $(count_logins "${arg#*=}"))) ;;
    -S?*) logins=$((logins + $(count_logins "${arg#-S}"))) ;;
    --sshloginfile | --slf) file_next=true ;;
    --sshloginfile=* | --slf=*) logins=$((logins + $(grep -c '^[^#[:space:]]' "${arg#*=}" || true))) ;;
    --resume-failed | --resume) resume=true ;;
    esac
    case $arg in --sshlogin* | -S* | --slf*) over_ssh=true ;; esac  # --sshloginfile too
done
if [ "$redundancy" = 2 ] && [ "$logins" -lt 2 ]; then
    echo "rect-cluster.sh: RECT_REDUNDANCY=2 runs every task on two different logins:" \
        "name two or more with --sshlogin (found $logins)" >&2
    usage
fi
if $over_ssh; then
    command -v rsync >/dev/null || { echo "rect-cluster.sh: rsync is not installed (parallel ships files with it)" >&2; exit 1; }
    # One directory per run on each host, named for this machine and process: two runs, or two
    # logins to the same host, never remove each other's program.
    remote=(--basefile ch06-rectangles --workdir ".parallel/tmp/ch06-cluster-$(hostname)-$$"
        --cleanup --controlmaster)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
joblog="$out/ch06-cluster-$r-$n.joblog"
twinlog="$out/ch06-cluster-$r-$n.twin.joblog"
rows="$out/ch06-cluster-$r-$n.rows.tsv"
dir="$out/ch06-cluster-$r-$n"
if $resume; then
    [ -f "$joblog" ] || { echo "rect-cluster.sh: nothing to resume: $joblog does not exist" >&2; exit 1; }
else
    rm -rf "$joblog" "$twinlog" "$dir"
fi
rm -f "$rows" "$rows.twin"
mkdir -p "$dir/output"
[ "$redundancy" = 1 ] || mkdir -p "$dir/twin/output"
cp "$program" "$dir/ch06-rectangles"

# The job's login, and whether it ended well, from the last line parallel logged for it (a
# retried job is logged once, for its last attempt; a resumed run appends).
last_attempt() { awk -F'\t' -v k="$1" 'NR > 1 && $1 == k { line = $2 "\t" ($7 == 0 && $8 == 0) } END { print line }' "$2"; }

# run_jobs LOG DIR INPUT COMMAND ARGS...: one parallel run. A job's output goes to DIR/output/K
# (--results: the last attempt's only) and becomes DIR/job-K.tsv only when the job log says that
# attempt succeeded, so a job that printed half its rows and died leaves no result file.
run_jobs() {
    local log=$1 to=$2 input=$3 command=$4 k ok
    shift 4
    local status=0
    (cd "$dir" && printf '%s\n' "$input" | PARALLEL=--will-cite parallel --joblog "$log" \
        --retries "$retries" --timeout "$timeout" --halt soon,fail=1 "${remote[@]}" "$@" \
        --results "$to/output/{1}" "$command" >/dev/null) || status=$?
    for k in $(seq 1 "$jobs"); do
        [ -f "$to/output/$k" ] || continue
        ok=$(last_attempt "$k" "$log" | cut -f2)
        if [ "$ok" = 1 ]; then
            mv "$to/output/$k" "$to/job-$k.tsv"
            rm -f "$to/output/$k.err" "$to/output/$k.seq"
        elif [ -s "$to/output/$k.err" ]; then
            echo "rect-cluster: job $k's last attempt: $(tail -1 "$to/output/$k.err")" >&2
        fi
    done
    return "$status"
}

echo "rect-cluster: ($r,$n) $split split as $jobs jobs, up to $retries attempts of at most" \
    "$timeout s each; job log $joblog" >&2
task="./ch06-rectangles $r $n --split $split --task {1}/$jobs"
if ! run_jobs "$joblog" "$dir" "$(seq 1 "$jobs")" "$task" "$@"; then
    echo "rect-cluster: a job failed after $retries attempts of at most $timeout s (see $joblog;" \
        "rerun with --resume-failed to run only the jobs that did not finish)" >&2
    exit 1
fi
if [ "$redundancy" = 2 ]; then
    # Each job again, told the login of its first run: an attempt that lands on that login
    # refuses to run (exit 75) and parallel retries it on a login where it has not failed.
    twins=$(for k in $(seq 1 "$jobs"); do printf '%s\t%s\n' "$k" "$(last_attempt "$k" "$joblog" | cut -f1)"; done)
    echo "rect-cluster: redundancy 2: every job again, on a login other than its first run's;" \
        "job log $twinlog" >&2
    if ! retries=$((retries + 1)) run_jobs "$twinlog" "$dir/twin" "$twins" \
        "[ \"\$PARALLEL_SSHLOGIN\" != {2} ] || { echo 'ran on the login of its first run' >&2; exit 75; }; $task" \
        --colsep '\t' "$@"; then
        echo "rect-cluster: a job's second run failed (see $twinlog; rerun with --resume-failed)" >&2
        exit 1
    fi
fi

# check_files DIR ROWS: every job's file whole, every task exactly once, each in the job that
# owns it: a task missing, run twice or cut short would make the sum wrong. Rows go to ROWS in
# task order.
check_files() {
    local from=$1 to=$2 files=() k
    for k in $(seq 1 "$jobs"); do
        [ -f "$from/job-$k.tsv" ] || { echo "rect-cluster: job $k of $jobs has no result file" \
            "$from/job-$k.tsv (rerun with --resume-failed)" >&2; exit 1; }
        files+=("$from/job-$k.tsv")
    done
    awk -F'\t' -v jobs="$jobs" -v rows="$to" '
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
}
check_files "$dir" "$rows"
tasks=$(awk -F'\t' 'NR == 2 { print $2 }' "$rows")
checks="every task exactly once"

# Redundancy 2: the two runs of every job came from different logins (the job logs say which),
# and every row agrees with its twin in everything but the time.
if [ "$redundancy" = 2 ]; then
    check_files "$dir/twin" "$rows.twin"
    for k in $(seq 1 "$jobs"); do
        first=$(last_attempt "$k" "$joblog" | cut -f1) second=$(last_attempt "$k" "$twinlog" | cut -f1)
        [ "$first" != "$second" ] || { echo "verification failed: job $k ran twice on" \
            "login $first, so its rows were not checked by another login" >&2; exit 1; }
        login[k]="$first and $second"
    done
    differ=$(paste <(cut -f1-9 "$rows") <(cut -f1-9 "$rows.twin") | awk -F'\t' '
        NR > 1 && !found { for (i = 1; i <= 9; i++) if ($i != $(i + 9)) found = $1 + 1 }
        END { if (found) print found - 1 }')
    if [ -n "$differ" ]; then
        k=$((differ % jobs + 1))
        echo "rect-cluster: task $differ: its two runs differ (job $k, logins ${login[k]}):" >&2
        echo "  first:  $(awk -F'\t' -v t="$differ" '$1 == t' "$rows" | cut -f1-9)" >&2
        echo "  second: $(awk -F'\t' -v t="$differ" '$1 == t' "$rows.twin" | cut -f1-9)" >&2
        echo "verification failed: task $differ's two runs disagree" >&2
        exit 1
    fi
    checks="$checks; every task run twice, on two different logins, identical rows"
fi

# A job can return a well-formed but wrong row (a faulty host, a wrong program): re-run a random
# sample of tasks with this machine's own build and require identical rows (all but the time).
case $sample in
tenth) sample=$(((tasks + 9) / 10)) ;;
all) sample=$tasks ;;
esac
[ "$sample" -le "$tasks" ] || sample=$tasks
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
# "verified" only when a check ran that a wrong row could have failed: a re-run or a twin.
if [ "$sample" -gt 0 ] || [ "$redundancy" = 2 ]; then
    echo "rect-cluster: verified: $checks"
else
    echo "rect-cluster: checked: $checks; no task re-run (RECT_SAMPLE=0, RECT_REDUNDANCY=1), so" \
        "a wrong row would pass unless the merge knows this size's total"
fi
