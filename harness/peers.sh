#!/usr/bin/env bash
# peers.sh - the chapters' numbers beside independent tools, measured in the same run.
#
# Usage: harness/peers.sh [N...]     (default: every chapter that has peers)
#   chapter 1: fork + exit + wait latency (ch01-fork --only methods) vs stress-ng's fork
#              stressor (one worker, one child per iteration), as a ratio.
# A tool that is missing is installed when we are root (apt-get), otherwise skipped with the
# command that would install it. Timings: both sides run one after the other, never at once.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${KIT_BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

have() {   # have COMMAND PACKAGE: true when COMMAND exists, installing PACKAGE as root if needed
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "peers: installing $2" >&2
        apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends "$2" >&2 && command -v "$1" >/dev/null && return 0
    fi
    echo "peers: $1 not available (install with: sudo apt-get install $2); skipped" >&2
    return 1
}

median_of() {   # median_of TSV VARIANT: the median column of that variant's row
    awk -F'\t' -v v="$2" '$1 == v { print $5; exit }' "$1"
}

chapter1() {
    echo "== chapter 1: fork + _exit + wait, microseconds per process"
    have stress-ng stress-ng || return 0
    "$build/ch01-fork" --only methods --trials 15 --out "$tmp" >/dev/null
    local ours theirs rate
    ours=$(median_of "$tmp/ch01-methods.tsv" fork)
    # one stressor, one child per iteration: fork, the child exits, the parent waits
    stress-ng --fork 1 --fork-max 1 --timeout 5s --metrics-brief >"$tmp/stress.txt" 2>&1 &
    local stress=$! worker maps=?
    sleep 2
    # what fork has to copy: the worker's mappings (ours: a few dozen)
    worker=$(pgrep -P "$stress" | head -1 || true)
    [ -n "$worker" ] && maps=$(wc -l <"/proc/$worker/maps" 2>/dev/null || echo ?)
    wait "$stress"
    rate=$(awk '$4 == "fork" { print $9 }' "$tmp/stress.txt")
    [ -n "$rate" ] || { echo "peers: could not read stress-ng's fork rate:"; cat "$tmp/stress.txt"; return 1; }
    theirs=$(awk -v r="$rate" 'BEGIN { printf "%.1f", 1e6 / r }')
    printf '  %-38s %10s us\n' "ch01-fork methods/fork (median)" "$ours"
    printf '  %-38s %10s us  (%s forks/s; its worker has %s mappings)\n' \
        "stress-ng --fork 1 --fork-max 1" "$theirs" "$rate" "$maps"
    awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "  ratio stress-ng / ch01-fork: %.2f\n", a / b }'
    echo "  (fork copies the parent's mappings and page tables: a small C program like grep has"
    echo "   $(grep -c '' /proc/self/maps) mappings, stress-ng's worker $maps; see book.md, chapter 1)"
}

chapter2() {   # the C pool's start+stop fit and pool-of-1 cost beside Python's, same machine
    echo "== chapter 2: pool overhead = fixed + per_worker x N (start + stop), and a pool of 1 vs a loop"
    "$build/ch02-pool" --only overhead --out "$tmp" >/dev/null
    local f="$tmp/ch02-overhead.tsv" c_fixed c_per c_frame c_tasks
    ch2_meta() { sed -n "s/.*[# ]$1=\([^ ]*\).*/\1/p" "$f" | head -1; }
    c_fixed=$(ch2_meta fit_fixed_us) c_per=$(ch2_meta fit_per_worker_us)
    c_frame=$(ch2_meta framework_us) c_tasks=$(ch2_meta tasks)
    printf '  %-30s %10s %14s %28s\n' "" "fixed us" "per worker us" "pool-1 minus loop, us/task"
    printf '  %-30s %10.0f %14.0f %28.1f\n' "ch02-pool (fork, pipes)" "$c_fixed" "$c_per" \
        "$(awk -v a="$c_frame" -v n="$c_tasks" 'BEGIN { print a / n }')"
    if ! command -v python3 >/dev/null; then
        echo "  python3 not found: the Python side (chapters/02-pool/pool_overhead.py) is skipped"
        return 0
    fi
    python3 chapters/02-pool/pool_overhead.py >"$tmp/py.txt"
    local py_exec py_pool py_one py_frame py_tasks
    py_exec=$(awk '$1 == "fit" && $2 == "kind=ProcessPoolExecutor"' "$tmp/py.txt")
    py_pool=$(awk '$1 == "fit" && $2 == "kind=Pool"' "$tmp/py.txt")
    py_one=$(awk '$1 == "pool1"' "$tmp/py.txt")
    ch2_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
    [ -n "$py_exec" ] && [ -n "$py_pool" ] && [ -n "$py_one" ] ||
        { echo "peers: could not read pool_overhead.py's output:"; cat "$tmp/py.txt"; return 1; }
    py_frame=$(ch2_field "$py_one" framework_us) py_tasks=$(ch2_field "$py_one" tasks)
    printf '  %-30s %10s %14s %28.1f\n' "ProcessPoolExecutor (fork)" "$(ch2_field "$py_exec" fixed_us)" \
        "$(ch2_field "$py_exec" per_worker_us)" "$(awk -v a="$py_frame" -v n="$py_tasks" 'BEGIN { print a / n }')"
    printf '  %-30s %10s %14s %28s\n' "multiprocessing.Pool (fork)" "$(ch2_field "$py_pool" fixed_us)" \
        "$(ch2_field "$py_pool" per_worker_us)" "-"
    awk -v cf="$c_fixed" -v cp="$c_per" -v pf="$(ch2_field "$py_exec" fixed_us)" -v pp="$(ch2_field "$py_exec" per_worker_us)" \
        -v cw="$c_frame" -v cn="$c_tasks" -v pw="$py_frame" -v pn="$py_tasks" 'BEGIN {
        printf "  ratio ProcessPoolExecutor / ch02-pool: per worker %.1fx, pool of 1 per task %.1fx", pp / cp, (pw / pn) / (cw / cn)
        if (cf > 0 && pf > 0) printf ", fixed %.0fx", pf / cf
        printf "\n" }'
    echo "  (a least-squares fixed part can come out near zero or negative when the per-worker"
    echo "   part dominates; see book.md, chapter 2. Python: $(head -1 "$tmp/py.txt" | cut -d' ' -f2-))"
}

# -- each chapter's peers are a function chapterN above this line --

chapters=("$@")
[ ${#chapters[@]} -gt 0 ] || chapters=($(declare -F | awk '$3 ~ /^chapter[0-9]+$/ { print substr($3, 8) }' | sort -n))
for n in "${chapters[@]}"; do
    declare -F "chapter$n" >/dev/null || { echo "peers.sh: chapter $n has no peers" >&2; exit 2; }
    "chapter$n"
done
