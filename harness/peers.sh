#!/usr/bin/env bash
# peers.sh - the chapters' numbers beside independent tools, measured in the same run.
#
# Usage: harness/peers.sh [--out DIR] [N...]   (default: every chapter that has peers)
#   chapter 1: harness/peers.d/ch01.sh: fork + exit + wait (ch01-fork --only methods) vs
#              stress-ng's fork stressor, and stress-ng's loop rebuilt ingredient by
#              ingredient (ch01-fork --only stress-ng) in rounds beside it (about 75 s; strace
#              and GNU time where installed); posix_spawn and fork+exec vs hyperfine -N
#              /bin/true; the Python twin's start methods (spawn.py) beside the C rows.
#   chapter 2: the pool's fixed and per-worker start+stop cost, and pool-of-1 vs a plain loop,
#              beside Python's ProcessPoolExecutor and multiprocessing.Pool; then the chunksize
#              sweep's throughput beside Pool.map's and ProcessPoolExecutor.map's at the same T
#              and chunk sizes, as ratios (the Python twin, pools.py). CH02_PEER_MODE=--quick
#              runs both sides at their CI size (the tests).
#   chapter 3: harness/peers.d/ch03.sh: the pipe round trip beside `perf bench sched pipe`
#              (with perf's fixed part, its fork and exit, measured and taken out), the memcpy
#              ceiling beside `perf bench mem memcpy`, shm-zero-copy against both of its
#              ceilings, and the Python twin (ipc.py) beside the C channels.
#   chapter 6: the single-core search rate beside an optimized Python version (rect.py).
#   chapters 4 and 5: harness/peers.d/ch04.sh, ch05.sh: the C rows beside the Python twins
#              (counters.py, readers.py).
#   chapters 7-10: harness/peers.d/chNN.sh, sourced below.
# A tool that is missing is installed when we are root (apt-get; KIT_NO_INSTALL=1 never
# installs), otherwise skipped with the command that would install it. Timings: both sides run
# one after the other, never at once; the machine may be shared, so only ratios from one run
# are compared.
#
# Writes DIR/peers.tsv (default results/), a special table: the kit's three metadata lines
# (chapter=00 program=peers.sh experiment=peers), then the columns
#   chapter   the chapter's number
#   quantity  what is compared, with its unit ("pipe round trip, one CPU, us")
#   kit       the kit's number
#   peer      the other tool's number, in the same unit
#   tool      the other tool, as run ("perf bench sched pipe -l 2000")
#   ratio     peer / kit: 1 is agreement; plots/peers.gp draws every ratio with the +-25% band
# and draws it (plots/peers.gp -> plots/out/peers.svg, or DIR/peers.svg with --out) when
# gnuplot is there. With --out DIR, the tables each program wrote (the kit's and the Python
# twins') are kept there too, e.g. for harness/plot.sh --data DIR plots/ch01-python.gp.
# A chapter adds a row with   peer_row CHAPTER QUANTITY KIT PEER TOOL
# (numbers as printed, no tabs in the text; a row with a missing number is refused with a
# message and the function goes on). Every chapter function can call it, also those in
# harness/peers.d/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${KIT_BUILD:-build}
out=results
if [ "${1:-}" = --out ]; then
    [ $# -ge 2 ] || { echo "usage: harness/peers.sh [--out DIR] [N...]" >&2; exit 2; }
    out=$2
    shift 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=$tmp/peers-rows.tsv
: >"$rows"

have() {   # have COMMAND PACKAGE: true when COMMAND exists, installing PACKAGE as root if needed
    command -v "$1" >/dev/null && return 0
    if [ -z "${KIT_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "peers: installing $2" >&2
        apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends "$2" >&2 && command -v "$1" >/dev/null && return 0
    fi
    echo "peers: $1 not available (install with: sudo apt-get install $2); skipped" >&2
    return 1
}

peer_row() {   # peer_row CHAPTER QUANTITY KIT PEER TOOL: one comparison into peers.tsv
    [ $# -eq 5 ] || { echo "peers: peer_row needs 5 arguments, got $#: $*" >&2; return 1; }
    local number='^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
    if ! [[ $1 =~ ^[0-9]+$ && $3 =~ $number && $4 =~ $number ]] || [[ "$2$5" == *$'\t'* ]]; then
        echo "peers: row refused (chapter '$1', $2: kit '$3', peer '$4', $5)" >&2
        return 0
    fi
    awk -v OFS='\t' -v c="$1" -v q="$2" -v k="$3" -v p="$4" -v t="$5" \
        'BEGIN { print c, q, k, p, t, (k != 0 ? sprintf("%.4g", p / k) : "nan") }' >>"$rows"
}

write_peers_tsv() {   # the rows of this run, whole or not at all, then the figure
    [ -s "$rows" ] || { echo "peers: no comparison ran, $out/peers.tsv not written" >&2; return 0; }
    mkdir -p "$out"
    local model date
    model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -1 | tr ' ' _)
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    {
        echo "# chapter=00 program=peers.sh experiment=peers mode=default"
        echo "# host=$(hostname 2>/dev/null || echo unknown) cpus=$(nproc) model=${model:-unknown}" \
            "kernel=$(uname -r) date=$date git=${KIT_GIT:-unknown}"
        echo "# args=${peers_args:-} load_before=$load_before"
        printf 'chapter\tquantity\tkit\tpeer\ttool\tratio\n'
        cat "$rows"
    } >"$out/peers.tsv.tmp"
    mv "$out/peers.tsv.tmp" "$out/peers.tsv"
    echo "peers: $(wc -l <"$rows") comparisons in $out/peers.tsv"
    # the figure beside the table when --out names a directory, else with the others
    harness/plot.sh --data "$out" --out "$([ "$out" = results ] && echo plots/out || echo "$out")" \
        plots/peers.gp || true
}

keep_tables() {   # with --out DIR, every program's own tables stay beside peers.tsv (figure data)
    [ "$out" != results ] || return 0
    mkdir -p "$out"
    local f
    for f in "$tmp"/*.tsv; do
        [ "$f" = "$rows" ] || cp "$f" "$out"/
    done
}

median_of() {   # median_of TSV VARIANT: the median column of that variant's row
    awk -F'\t' -v v="$2" '$1 == v { print $5; exit }' "$1"
}

chapter2() {   # the C pool beside Python's pools (pools.py), same machine, one after the other
    echo "== chapter 2: pool overhead = fixed + per_worker x N (start + stop), and a pool of 1 vs a loop"
    "$build/ch02-pool" --only overhead ${CH02_PEER_MODE:-} --out "$tmp" >/dev/null
    local f="$tmp/ch02-overhead.tsv" c_fixed c_per c_frame c_tasks
    ch2_meta() { sed -n "s/.*[# ]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
    c_fixed=$(ch2_meta "$f" fit_fixed_us) c_per=$(ch2_meta "$f" fit_per_worker_us)
    c_frame=$(ch2_meta "$f" framework_us) c_tasks=$(ch2_meta "$f" tasks)
    printf '  %-30s %10s %14s %28s\n' "" "fixed us" "per worker us" "pool-1 minus loop, us/task"
    printf '  %-30s %10.0f %14.0f %28.1f\n' "ch02-pool (fork, pipes)" "$c_fixed" "$c_per" \
        "$(awk -v a="$c_frame" -v n="$c_tasks" 'BEGIN { print a / n }')"
    have python3 python3 || { echo "  (the Python side, chapters/02-pool/pools.py, is skipped)"; return 0; }
    python3 chapters/02-pool/pools.py --only overhead ${CH02_PEER_MODE:-} --out "$tmp" >"$tmp/py.txt" ||
        { echo "peers: pools.py --only overhead failed:"; cat "$tmp/py.txt"; return 1; }
    local py_exec py_pool py_one py_frame py_tasks
    py_exec=$(awk '$1 == "fit" && $2 == "kind=ProcessPoolExecutor"' "$tmp/py.txt")
    py_pool=$(awk '$1 == "fit" && $2 == "kind=Pool"' "$tmp/py.txt")
    py_one=$(awk '$1 == "pool1"' "$tmp/py.txt")
    ch2_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
    ch2_at() { awk -F'\t' -v v="$2" -v x="$3" '$1 == v && $2 == x { print $5; exit }' "$1"; }
    [ -n "$py_exec" ] && [ -n "$py_pool" ] && [ -n "$py_one" ] ||
        { echo "peers: could not read pools.py's output:"; cat "$tmp/py.txt"; return 1; }
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
    peer_row 2 "pool start+stop per worker, us (Python: ProcessPoolExecutor)" "$c_per" \
        "$(ch2_field "$py_exec" per_worker_us)" "python3 pools.py --only overhead"
    peer_row 2 "pool of 1 minus a loop, us per task (Python: ProcessPoolExecutor)" \
        "$(awk -v a="$c_frame" -v n="$c_tasks" 'BEGIN { print a / n }')" \
        "$(awk -v a="$py_frame" -v n="$py_tasks" 'BEGIN { print a / n }')" "python3 pools.py --only overhead"
    echo "  (a least-squares fixed part can come out near zero or negative when the per-worker"
    echo "   part dominates; see book.md, chapter 2. Python: $(head -1 "$tmp/py.txt" | cut -d' ' -f2-))"

    # chunksize: Python first (its T fits its budget), then C over the same T and workers, so
    # both sweep the same chunk sizes; each table read by variant name.
    local py="$tmp/ch02-python-chunksize.tsv" c="$tmp/ch02-chunksize.tsv" tasks workers chunk k v1 v2
    python3 chapters/02-pool/pools.py --only chunksize ${CH02_PEER_MODE:-} --out "$tmp" \
        >"$tmp/py-chunk.txt" ||
        { echo "peers: pools.py --only chunksize failed:"; cat "$tmp/py-chunk.txt"; return 1; }
    tasks=$(ch2_meta "$py" tasks) workers=$(ch2_meta "$py" workers)
    [ -n "$tasks" ] && [ -n "$workers" ] || { echo "peers: no tasks= or workers= in $py"; return 1; }
    "$build/ch02-pool" --only chunksize ${CH02_PEER_MODE:-} --tasks "$tasks" --workers "$workers" \
        --out "$tmp" >"$tmp/c-chunk.txt" ||
        { echo "peers: ch02-pool --only chunksize failed:"; cat "$tmp/c-chunk.txt"; return 1; }
    echo "== chapter 2: chunksize, $tasks tiny tasks through a pool of $workers, throughput in ktasks/s (Python / C)"
    echo "   (C's tiny task: spin_task(k, 300), $(ch2_meta "$c" task_us) us in C; Python's: spin_task(k, $(ch2_meta "$py" spins)),"
    echo "    $(ch2_meta "$py" task_us) us in Python: within a small factor, see pools.py)"
    printf '  %8s %12s %12s %8s %24s %8s\n' chunk "ch02-pool" "Pool.map" "Py / C" "ProcessPoolExecutor.map" "Py / C"
    for chunk in $(awk -F'\t' '$1 == "pool" { print $2 }' "$c"); do
        k=$(ch2_at "$c" pool "$chunk") v1=$(ch2_at "$py" Pool.map "$chunk") v2=$(ch2_at "$py" ProcessPoolExecutor.map "$chunk")
        [ -n "$k" ] && [ -n "$v1" ] && [ -n "$v2" ] || { echo "peers: no rows at chunk $chunk in $c and $py"; return 1; }
        awk -v c="$chunk" -v k="$k" -v a="$v1" -v b="$v2" -v d="$(ch2_meta "$py" python_default_chunk)" 'BEGIN {
            printf "  %8s %12.1f %12.1f %8.3f %24.1f %8.3f%s\n", c, k, a, a / k, b, b / k, \
                (c == d ? "  Pool.map default" : "") }'
    done
    for chunk in 1 "$(ch2_meta "$py" python_default_chunk)"; do
        peer_row 2 "throughput at chunk $chunk of $tasks tiny tasks, ktasks/s (Python: Pool.map)" \
            "$(ch2_at "$c" pool "$chunk")" "$(ch2_at "$py" Pool.map "$chunk")" \
            "python3 pools.py --only chunksize"
        peer_row 2 "throughput at chunk $chunk of $tasks tiny tasks, ktasks/s (Python: ProcessPoolExecutor.map)" \
            "$(ch2_at "$c" pool "$chunk")" "$(ch2_at "$py" ProcessPoolExecutor.map "$chunk")" \
            "python3 pools.py --only chunksize"
    done
    sed -n 's/^  -> /  Python: /p; s/^     ideal/  Python: ideal/p' "$tmp/py-chunk.txt"
    awk '/^  -> / { on = 1; sub(/^  -> /, "  C: "); print; next }
         on && /^     / { print; next } { on = 0 }' "$tmp/c-chunk.txt"
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
    peer_row 6 "rectangles ($r,$n) per CPU-second, first-column method" "$ours" "$theirs" \
        "python3 rect.py $r $n --tasks 4"
    echo "  (same algorithm, same counts (both verify them); see book.md, chapter 6)"
}

# -- each chapter's peers are a function chapterN above this line, or in harness/peers.d/ --

shopt -s nullglob
for f in harness/peers.d/ch[0-9][0-9].sh; do
    # shellcheck source=/dev/null
    source "$f"
done
shopt -u nullglob

peers_args="$*"
load_before=$(cut -d' ' -f1 /proc/loadavg)
chapters=("$@")
[ ${#chapters[@]} -gt 0 ] || chapters=($(declare -F | awk '$3 ~ /^chapter[0-9]+$/ { print substr($3, 8) }' | sort -n))
for n in "${chapters[@]}"; do
    declare -F "chapter$n" >/dev/null || { echo "peers.sh: chapter $n has no peers" >&2; exit 2; }
done
for n in "${chapters[@]}"; do
    "chapter$n"
done
keep_tables
write_peers_tsv
