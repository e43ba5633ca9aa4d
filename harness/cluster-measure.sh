#!/usr/bin/env bash
# cluster-measure.sh - what ssh costs harness/rect-cluster.sh: the same count locally, over
# one ssh login and over two, with GNU parallel's per-job overhead from its job log.
#
# Usage (as root, from the kit's root, after make build/ch06-rectangles):
#   harness/cluster-measure.sh [R N] [OUTDIR]   (default 5 8, plots/reference/data)
# It starts a private sshd on 127.0.0.1 (its own config, throwaway host and client keys in a
# temporary directory, nothing of the machine's ssh setup read or changed) and logs in to this
# same machine as root under three names: login-a and login-b, whose sessions start root's login
# shell as any ssh session does (bash reads ~/.bashrc when sshd starts it), and login-norc, which
# sends SHLVL=1 so that bash skips ~/.bashrc: a login whose shell starts in milliseconds. Runs,
# one after another, each with RECT_SAMPLE=0 (the sample re-run is local work, not ssh's):
#   local          -j2
#   one login      --sshlogin 2/login-a
#   two logins     --sshlogin 1/login-a,1/login-b   (the same 2 slots, on two logins)
#   one login, no rc file  --sshlogin 2/login-norc
#   one login, the script before it shipped the program once per login (git show REV:...)
# Writes OUTDIR/ch06-cluster-R-N.tsv (one row per run), OUTDIR/ch06-cluster-R-N-VARIANT.joblog,
# and prints the table and what follows from it; the counts of every run are checked by the
# script itself (exit 1 else), and every run must count the same.
# A job's overhead is its JobRuntime in the job log minus the seconds its tasks report.
#   harness/cluster-measure.sh --summary FILE.tsv   the conclusions only
set -euo pipefail

# What follows from the table: the overhead of a job over each login against locally, in ssh
# sessions, and the work a job needs to spend at most a tenth of its time on its remote start.
summarize() {
    awk -F'\t' '/^#/ || $1 == "variant" { next }
        { o[$1] = $9; s[$1] = $7; w[$1] = $8; login[$1] = $2 }
        END {
            printf "per job, over ssh, against locally (%.3f s):\n", o["local"]
            split("one-login-before one-login two-logins one-login-norc", v, " ")
            for (i = 1; i <= 4; i++) if (v[i] in o)
                printf "  %-17s %7.3f s overhead = %4.1f ssh sessions of %.2f s (%s)\n", v[i], o[v[i]],
                    o[v[i]] / s[v[i]], s[v[i]], login[v[i]]
            if (("one-login-before" in o) && ("one-login" in o))
                printf "the program shipped once per login and the rows returned as output: %.1fx " \
                    "less overhead per job on the same login\n", o["one-login-before"] / o["one-login"]
            for (i = 2; i <= 4; i += 2) if (v[i] in o)
                printf "a job spends at most a tenth of its time on its remote start when its work " \
                    "is >= 9 x %.3f = %.1f s (%s)\n", o[v[i]], 9 * o[v[i]], v[i]
            for (i = 2; i <= 4; i += 2) if (v[i] in o)
                printf "this count: %.2f s of work per job (median, %s): %s\n", w[v[i]], v[i],
                    (w[v[i]] >= 9 * o[v[i]]) ? "enough to pay for its ssh start" \
                    : "too little to pay for its ssh start"
        }' "$1"
}
if [ "${1:-}" = --summary ]; then
    summarize "$2"
    exit 0
fi
r=${1:-5} n=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$root/plots/reference/data}
before=${MEASURE_BEFORE:-43e8a07}       # the last commit with a program copy per job
[ "$(id -u)" = 0 ] || { echo "cluster-measure.sh: needs root to run a private sshd" >&2; exit 2; }
[ -x "$root/build/ch06-rectangles" ] || { echo "make build/ch06-rectangles first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/cluster-measure-XXXXXX)
cleanup() {
    "$root/harness/private-sshd.sh" stop "$tmp"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$root/harness/private-sshd.sh" start "$tmp"
git -C "$root" show "$before:harness/rect-cluster.sh" >"$tmp/rect-cluster-before.sh"
chmod +x "$tmp/rect-cluster-before.sh"

# seconds of one ssh session that runs `true`, median of 5, for a login
session_s() {
    for _ in 1 2 3 4 5; do
        /usr/bin/time -f %e "$tmp/ssh/ssh" "$1" true 2>&1 >/dev/null </dev/null
    done | sort -n | sed -n 3p
}

tsv="$out/ch06-cluster-$r-$n.tsv"
printf '# ch06 cluster: (%s,%s) as 16 jobs, RECT_SAMPLE=0, host=%s cpus=%s date=%s git=%s\n' \
    "$r" "$n" "$(hostname)" "$(nproc)" "$(date -u +%FT%TZ)" "$(git -C "$root" rev-parse --short HEAD)" >"$tsv.tmp"
printf '# session_s = one `ssh LOGIN true`, median of 5; overhead = JobRuntime - task seconds\n' >>"$tsv.tmp"
printf 'variant\tsshlogin\tjobs\twall_s\tload_before\tload_after\tsession_s\twork_median_s\toverhead_median_s\toverhead_min_s\toverhead_max_s\tpositive\tnegative\n' >>"$tsv.tmp"

# one_run VARIANT LOGIN SCRIPT ARGS...
one_run() {
    local variant=$1 login=$2 script=$3 session=- load0 load1 t0 t1 log
    shift 3
    [ "$login" = - ] || session=$(session_s "${login##*/}")
    load0=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    echo "== $variant: $script $r $n $*" >&2
    (cd "$tmp" && KIT_BUILD=$root/build RECT_SAMPLE=0 RECT_JOBS=16 RECT_OUT="$tmp/out-$variant" "$script" "$r" "$n" "$@") \
        >"$tmp/$variant.out" 2>&1 || { cat "$tmp/$variant.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    load1=$(cut -d' ' -f1 /proc/loadavg)
    log="$tmp/out-$variant/ch06-cluster-$r-$n.joblog"
    cp "$log" "$out/ch06-cluster-$r-$n-$variant.joblog"
    # per job: JobRuntime minus the seconds its tasks report (column 10 of its result file)
    local per
    per=$(for k in $(seq 1 16); do
        awk -F'\t' -v k="$k" 'NR > 1 && $1 == k { t = $4 } END { printf "%s\t", t }' "$log"
        awk -F'\t' 'NR > 1 && $1 != "task" { s += $10 } END { printf "%.3f\n", s }' \
            "$tmp/out-$variant/ch06-cluster-$r-$n/job-$k.tsv"
    done)
    local stats
    stats=$(printf '%s\t%s\n' "$(median <<<"$(cut -f2 <<<"$per")")" \
        "$(awk -F'\t' '{ printf "%.3f\n", $1 - $2 }' <<<"$per" | median --spread)" | tr '\n' '\t')
    stats=${stats%$'\t'}
    local pos neg
    pos=$(awk '$1 == "positive" { gsub(",", "", $2); print $2 }' "$tmp/$variant.out")
    neg=$(awk '$1 == "negative" { gsub(",", "", $2); print $2 }' "$tmp/$variant.out")
    printf '%s\t%s\t16\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\n' "$variant" "$login" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$load0" "$load1" "$session" "$stats" "$pos" "$neg" >>"$tsv.tmp"
    tail -n 1 "$tsv.tmp" >&2
}

# median [--spread]: the median of the numbers on stdin, with --spread also the min and max
median() {
    sort -g | awk -v spread="${1:-}" '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        if (spread) printf "%.3f\t%.3f\t%.3f\n", m, v[1], v[NR]; else printf "%.3f\n", m }'
}

new=$root/harness/rect-cluster.sh
ssh=(--ssh "$tmp/ssh/ssh")
one_run local - "$new" -j2
one_run one-login 2/login-a "$new" "${ssh[@]}" --sshlogin 2/login-a
one_run two-logins 1/login-a,1/login-b "$new" "${ssh[@]}" --sshlogin 1/login-a,1/login-b
one_run one-login-norc 2/login-norc "$new" "${ssh[@]}" --sshlogin 2/login-norc
one_run one-login-before 2/login-a "$tmp/rect-cluster-before.sh" "${ssh[@]}" --sshlogin 2/login-a
# every run counted the same
[ "$(awk -F'\t' 'NR > 3 { print $12 "\t" $13 }' "$tsv.tmp" | sort -u | wc -l)" = 1 ] ||
    { echo "verification failed: the runs' counts differ" >&2; cat "$tsv.tmp" >&2; exit 1; }
mv "$tsv.tmp" "$tsv"
column -t -s $'\t' <(grep -v '^#' "$tsv")
summarize "$tsv"
