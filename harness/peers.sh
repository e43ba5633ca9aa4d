#!/usr/bin/env bash
# peers.sh - the chapters' numbers beside independent tools, measured in the same run.
#
# Usage: harness/peers.sh [N...]     (default: every chapter that has peers)
#   chapter 1: fork + exit + wait latency (ch01-fork --only methods) vs stress-ng's fork
#              stressor (one worker, one child per iteration), as a ratio.
#   chapter 2: the pool's fixed and per-worker start+stop cost, and pool-of-1 vs a plain loop,
#              beside Python's ProcessPoolExecutor and multiprocessing.Pool (pool_overhead.py).
#   chapter 3: the pipe round trip beside `perf bench sched pipe`, the memcpy ceiling beside
#              `perf bench mem memcpy`, both pinned the same way.
#   chapter 6: the single-core search rate beside an optimized Python version (rect.py).
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

chapter3() {
    echo "== chapter 3: pipe round trip with both processes on CPU 0; memcpy bandwidth of one CPU, 4 MiB"
    if ! command -v perf >/dev/null; then
        echo "peers: perf not available (install with: sudo apt-get install linux-perf); skipped" >&2
        return 0
    fi
    if ! perf bench sched pipe -l 1000 >"$tmp/perf-probe.txt" 2>&1; then
        echo "peers: perf bench refused to run; skipped:" >&2
        sed 's/^/  /' "$tmp/perf-probe.txt" >&2
        return 0
    fi
    local ours theirs ceiling zero copy
    # Both sides measure the same way: many short runs, the median. (On a shared machine one
    # long run also absorbs the time slices given to other processes.)
    # The same placement on both sides: taskset pins perf to CPU 0, and its two processes inherit it.
    theirs=$(for i in $(seq 9); do
        taskset -c 0 perf bench sched pipe -l 2000 2>&1 | awk '$2 == "usecs/op" { print $1 }'
    done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    "$build/ch03-ipc" --only latency --channel pipe --pin same --trials 9 --out "$tmp" >/dev/null
    ours=$(awk -F'\t' '$1 == "pipe" && $2 == 1 { print $5 }' "$tmp/ch03-latency.tsv")
    [ -n "$theirs" ] && [ -n "$ours" ] || { echo "peers: could not read the pipe round trips"; return 1; }
    printf '  %-52s %9.2f us\n' "ch03-ipc latency, pipe, --pin same (median of 9)" "$ours"
    printf '  %-52s %9.2f us\n' "taskset -c 0 perf bench sched pipe -l 2000 (median of 9)" "$theirs"
    awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "  ratio perf / ch03-ipc: %.2f (one round trip: two writes, two reads, two wake-ups)\n", a / b }'

    # perf prints GB/sec in units of 2^30 bytes (MB/sec, 2^20, when slower); the kit's GB are 10^9
    copy=$(for i in $(seq 9); do
        perf bench mem memcpy -f default -s 4MB -l 2 2>&1 |
            awk '$2 == "GB/sec" { printf "%.3f\n", $1 * 1.073741824 } $2 == "MB/sec" { printf "%.3f\n", $1 * 0.001048576 }'
    done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    [ -n "$copy" ] || { echo "peers: could not read perf's memcpy bandwidth"; return 1; }
    "$build/ch03-ipc" --only bandwidth --channel shm-zero-copy --max-size 4M --trials 9 --out "$tmp" >/dev/null 2>&1
    ceiling=$(awk -F'\t' '$1 == "memcpy" && $2 == 4096 { print $5 }' "$tmp/ch03-bandwidth.tsv")
    zero=$(awk -F'\t' '$1 == "shm-zero-copy" && $2 == 4096 { print $5 }' "$tmp/ch03-bandwidth.tsv")
    printf '  %-52s %9.2f GB/s\n' "ch03-ipc memcpy ceiling, 4 MiB, 2 copies a trial (median of 9)" "$ceiling"
    printf '  %-52s %9.2f GB/s\n' "perf bench mem memcpy -f default -s 4MB -l 2 (median of 9)" "$copy"
    awk -v a="$copy" -v b="$ceiling" 'BEGIN { printf "  ratio perf / ch03-ipc: %.2f\n", a / b }'
    awk -v z="$zero" -v c="$ceiling" 'BEGIN { printf "  ch03-ipc shm-zero-copy, 4 MiB messages: %.2f GB/s = %.0f%% of its memcpy ceiling\n", z, 100 * z / c }'
    echo "  (see book.md, chapter 3, for what the ratios mean)"
}

chapter6() {
    # The same first-column method in C and in plain Python (rect.py), one core each, one after
    # the other; rate = rectangles per CPU-second after the (r-1)! symmetry factor. Python runs 4 of
    # the 20 tasks (every task counts the same, and rect.py checks that), C all of them.
    local r=4 n=7 ours theirs
    echo "== chapter 6: signed Latin rectangles ($r,$n), first-column method, rectangles per CPU-second"
    have python3 python3 || return 0
    "$build/ch06-rectangles" "$r" "$n" --split first-column --workers 1 >"$tmp/c.txt"
    ours=$(awk '$1 == "->" && /per CPU-second/ { print $2 }' "$tmp/c.txt")
    python3 chapters/06-rectangles/rect.py "$r" "$n" --tasks 4 >"$tmp/py.txt"
    theirs=$(sed -n 's/^rate_per_cpu_s=//p' "$tmp/py.txt")
    [ -n "$ours" ] && [ -n "$theirs" ] || { echo "peers: could not read the rates:"; cat "$tmp/c.txt" "$tmp/py.txt"; return 1; }
    printf '  %-44s %12.4g /CPU-s\n' "ch06-rectangles $r $n --split first-column" "$ours"
    printf '  %-44s %12.4g /CPU-s\n' "python3 rect.py $r $n --tasks 4" "$theirs"
    awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "  ratio C / Python: %.1f\n", a / b }'
    echo "  (same algorithm, same counts (both verify them); see book.md, chapter 6)"
}

# -- each chapter's peers are a function chapterN above this line, or in harness/peers.d/ --

shopt -s nullglob
for f in harness/peers.d/ch[0-9][0-9].sh; do
    # shellcheck source=/dev/null
    source "$f"
done
shopt -u nullglob

chapters=("$@")
[ ${#chapters[@]} -gt 0 ] || chapters=($(declare -F | awk '$3 ~ /^chapter[0-9]+$/ { print substr($3, 8) }' | sort -n))
for n in "${chapters[@]}"; do
    declare -F "chapter$n" >/dev/null || { echo "peers.sh: chapter $n has no peers" >&2; exit 2; }
    "chapter$n"
done
