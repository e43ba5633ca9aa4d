# ch01.sh - chapter 1's peers, sourced by harness/peers.sh (which defines have, peer_row,
# median_of, $build and $tmp). One ch01-fork --only methods run, then, one after the other:
#   stress-ng --fork 1 --fork-max 1   fork + exit + wait in a loop, beside the kit's fork row;
#                                     with strace installed, what its child and parent do besides
#   hyperfine -N /bin/true            start a program and wait for it (no shell), beside the
#                                     kit's posix_spawn and fork+exec rows (which alternate
#                                     /bin/true and /bin/false)
#   python3 spawn.py --only methods   os.fork and multiprocessing.Process(fork) beside the kit's
#                                     fork, subprocess.run beside posix_spawn
# CH01_PEER_TRIALS (default 15) sets the kit's trials; CH01_PEER_RUNS (default 200) hyperfine's.

ch1_stress() {
    local ours=$1 theirs rate stress worker maps=?
    have stress-ng stress-ng || return 0
    # one stressor, one child per iteration: fork, the child exits, the parent waits
    stress-ng --fork 1 --fork-max 1 --timeout 5s --metrics-brief >"$tmp/stress.txt" 2>&1 &
    stress=$!
    sleep 2
    # what fork has to copy: the worker's mappings (ours: a few dozen)
    worker=$(pgrep -P "$stress" | head -1 || true)
    [ -n "$worker" ] && maps=$(wc -l <"/proc/$worker/maps" 2>/dev/null || echo ?)
    wait "$stress"
    rate=$(awk '$4 == "fork" { print $9 }' "$tmp/stress.txt")
    [ -n "$rate" ] || { echo "peers: could not read stress-ng's fork rate:"; cat "$tmp/stress.txt"; return 1; }
    theirs=$(awk -v r="$rate" 'BEGIN { printf "%.1f", 1e6 / r }')
    printf '  %-44s %10s us\n' "ch01-fork methods/fork (median)" "$ours"
    printf '  %-44s %10s us  (%s forks/s; its worker has %s mappings)\n' \
        "stress-ng --fork 1 --fork-max 1" "$theirs" "$rate" "$maps"
    awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "  ratio stress-ng / ch01-fork: %.2f\n", a / b }'
    # stress-ng's rate is per second of wall time: on a shared machine that includes the time its
    # worker waited for a CPU. Its usr+sys rate says how much CPU a fork took.
    awk '$4 == "fork" && $10 > 0 { printf "  (stress-ng per second of its own CPU time: %s forks/s = %.1f us of CPU per fork;\n   wall / CPU = %.1f: above 1, its worker waited for a CPU)\n", $10, 1e6 / $10, $10 / $9 }' "$tmp/stress.txt"
    peer_row 1 "fork + _exit + wait, us per process" "$ours" "$theirs" "stress-ng --fork 1 --fork-max 1"
    echo "  (fork copies the parent's mappings and page tables: a small C program like grep has"
    echo "   $(grep -c '' /proc/self/maps) mappings, stress-ng's worker $maps; see book.md, chapter 1)"
}

# What stress-ng's fork loop does besides fork, exit and wait, beside ch01-fork's, seen by strace
# (counts of system calls, not timings: strace slows every call). Only where strace is installed.
ch1_forked_children() {   # ch1_forked_children DIR PREFIX: children of the busiest forker, no exec
    local parent k
    parent=$(grep -c '^clone' "$1/$2".* | sort -t: -k2 -n | tail -1 | cut -d: -f1)
    for k in $(grep '^clone(' "$parent" | grep -v CLONE_VM | sed -n 's/.* = \([0-9][0-9]*\)$/\1/p'); do
        [ -f "$1/$2.$k" ] && ! grep -q '^execve' "$1/$2.$k" && echo "$1/$2.$k"
    done
    return 0
}

ch1_median_calls() {   # stdin: trace files; prints the median number of system calls in them
    while read -r f; do grep -cv '^+++\|^---' "$f"; done | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

ch1_stress_trace() {
    command -v strace >/dev/null && command -v stress-ng >/dev/null || return 0
    local d="$tmp/strace" theirs ours n signals names
    mkdir -p "$d"
    strace -f -ff -o "$d/s" stress-ng --fork 1 --fork-max 1 --timeout 2s >/dev/null 2>&1 || return 0
    strace -f -ff -o "$d/k" "$build/ch01-fork" --quick --only methods --trials 1 --out "$d/out" \
        >/dev/null 2>&1 || return 0
    theirs=$(ch1_forked_children "$d" s) ours=$(ch1_forked_children "$d" k)
    [ -n "$theirs" ] && [ -n "$ours" ] || return 0
    n=$(grep -c . <<<"$theirs")
    ch1_names() { grep -v '^+++\|^---' "$1" | sed 's/(.*//' | paste -sd' ' || true; }
    names=$(ch1_names "$(head -1 <<<"$theirs")")
    # a signal handler that ran returns through rt_sigreturn
    handled() { grep -c '^rt_sigreturn' "$(grep -c '^clone' "$d/$1".* | sort -t: -k2 -n | tail -1 | cut -d: -f1)" || true; }
    signals=$(handled s)
    echo "  under strace: a stress-ng fork child makes $(ch1_median_calls <<<"$theirs") system calls (median of $n):"
    echo "   $names;"
    echo "   a ch01-fork fork child $(ch1_median_calls <<<"$ours"): $(ch1_names "$(head -1 <<<"$ours")")."
    echo "   signal handlers run in the forking parent: stress-ng $signals (for $n children), ch01-fork $(handled k)."
}

ch1_hyperfine() {
    local methods=$1 runs=${CH01_PEER_RUNS:-200} theirs spawn exec
    have hyperfine hyperfine || return 0
    hyperfine -N --warmup 20 --runs "$runs" --style none --export-csv "$tmp/hyperfine.csv" /bin/true \
        >/dev/null 2>"$tmp/hyperfine.err" || { echo "peers: hyperfine failed:"; cat "$tmp/hyperfine.err"; return 1; }
    # its CSV: command,mean,stddev,median,user,system,min,max, in seconds
    theirs=$(awk -F, 'NR == 2 { printf "%.1f", $4 * 1e6 }' "$tmp/hyperfine.csv")
    spawn=$(median_of "$methods" posix_spawn) exec=$(median_of "$methods" fork+exec)
    [ -n "$theirs" ] && [ -n "$spawn" ] && [ -n "$exec" ] ||
        { echo "peers: could not read hyperfine's or the kit's medians"; return 1; }
    printf '  %-44s %10s us\n' "ch01-fork methods/posix_spawn (median)" "$spawn" \
        "ch01-fork methods/fork+exec (median)" "$exec" "hyperfine -N /bin/true (median of $runs)" "$theirs"
    awk -v h="$theirs" -v s="$spawn" -v e="$exec" \
        'BEGIN { printf "  ratio hyperfine / posix_spawn %.2f, hyperfine / fork+exec %.2f\n", h / s, h / e }'
    peer_row 1 "start /bin/true and wait, us (kit: posix_spawn)" "$spawn" "$theirs" "hyperfine -N /bin/true"
    peer_row 1 "start /bin/true and wait, us (kit: fork+exec)" "$exec" "$theirs" "hyperfine -N /bin/true"
}

ch1_python() {
    local methods=$1 py="$tmp/ch01-python-methods.tsv" pair k p
    have python3 python3 || { echo "  (the Python side, chapters/01-fork/spawn.py, is skipped)"; return 0; }
    python3 chapters/01-fork/spawn.py --only methods --out "$tmp" >"$tmp/py1.txt" ||
        { echo "peers: spawn.py failed:"; cat "$tmp/py1.txt"; return 1; }
    printf '  %-44s %10s %10s\n' "us per process: C method / Python" C Python
    for pair in fork:os.fork fork:Process-fork fork:Process-forkserver fork:Process-spawn \
        posix_spawn:subprocess thread:thread; do
        k=$(median_of "$methods" "${pair%%:*}") p=$(median_of "$py" "${pair#*:}")
        printf '  %-44s %10s %10s\n' "${pair%%:*} / ${pair#*:}" "$k" "$p"
        peer_row 1 "start and reap, us: ${pair%%:*} vs Python ${pair#*:}" "$k" "$p" "python3 spawn.py --only methods"
    done
    echo "  (Python: $(head -1 "$tmp/py1.txt" | cut -d' ' -f2-))"
}

chapter1() {
    echo "== chapter 1: start a process and reap it, microseconds per process"
    local methods="$tmp/ch01-methods.tsv" ours
    "$build/ch01-fork" --only methods --trials "${CH01_PEER_TRIALS:-15}" --out "$tmp" >/dev/null
    ours=$(median_of "$methods" fork)
    ch1_stress "$ours"
    ch1_stress_trace
    ch1_hyperfine "$methods"
    ch1_python "$methods"
}
