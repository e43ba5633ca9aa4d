# ch01.sh - chapter 1's peers, sourced by harness/peers.sh (which defines have, peer_row,
# median_of, $build and $tmp). One ch01-fork --only methods run, then, one after the other:
#   stress-ng --fork 1 --fork-max 1   fork + exit + wait in a loop, beside the kit's fork row and
#                                     beside the kit's copy of stress-ng's loop (ch01-fork --only
#                                     stress-ng), run as it is and with stress-ng's shared
#                                     libraries preloaded, in CH01_PEER_ROUNDS rounds (default 5):
#                                     what each ingredient adds, per fork;
#                                     with strace installed, what its child and parent do besides
#   hyperfine -N /bin/true            start a program and wait for it (no shell), beside the
#                                     kit's posix_spawn and fork+exec rows (which alternate
#                                     /bin/true and /bin/false); with strace, which call each
#                                     uses to start /bin/true
#   python3 spawn.py --only methods   os.fork and multiprocessing.Process(fork) beside the kit's
#                                     fork, subprocess.run beside posix_spawn
# CH01_PEER_TRIALS (default 15) sets the kit's trials; CH01_PEER_RUNS (default 200) hyperfine's.

ch1_median() {   # stdin: numbers, one a line; prints their median
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

ch1_tsv() {   # ch1_tsv TSV VARIANT COLUMN: one number of the kit's table (5 median, 8 mean)
    awk -F'\t' -v v="$2" -v c="$3" '$1 == v { print $c; exit }' "$1"
}

# One round: the kit's copy of stress-ng's loop (ch01-fork --only stress-ng) as it is and with
# stress-ng's shared libraries preloaded (its worker's mappings), then stress-ng itself. Prints
#   plain like plain_mean like_mean cpu_plain cpu_like + the same 6 with the libraries
#   + setsid yield calls table (each recipe's median minus plain's, no libraries: wall, CPU)
#   + stress-ng's wall and CPU time per fork
ch1_round() {
    local i=$1 libs=$2 k=$tmp/ch1-kit$i l=$tmp/ch1-libs$i s=$tmp/stress$i.txt f v
    "$build/ch01-fork" --quick --only stress-ng --trials 3 --out "$k" >"$k.txt" 2>&1 ||
        { echo "peers: ch01-fork --only stress-ng failed:" >&2; cat "$k.txt" >&2; return 1; }
    if [ -n "$libs" ]; then
        LD_PRELOAD=$libs "$build/ch01-fork" --quick --only stress-ng --trials 3 --out "$l" \
            >"$l.txt" 2>&1 || { echo "peers: ch01-fork with stress-ng's libraries failed" >&2; return 1; }
    fi
    stress-ng --fork 1 --fork-max 1 --timeout 2s --metrics-brief >"$s" 2>&1 &
    local stress=$!
    if [ "$i" = 1 ]; then   # what fork has to copy: the worker's mappings and anonymous memory
        local worker try n a
        sleep 0.5
        for try in 1 2 3 4 5 6 7 8 9 10; do
            for worker in $(pgrep -P "$stress" || true); do
                n=$(wc -l <"/proc/$worker/maps" 2>/dev/null) &&
                    a=$(awk '$1 == "Anonymous:" { print $2 }' "/proc/$worker/smaps_rollup" 2>/dev/null) &&
                    [ -n "$n" ] && [ -n "$a" ] &&
                    { echo "$n mappings, $a KiB anonymous" >"$tmp/stress-maps.txt"; break 2; }
            done
            sleep 0.1
        done
    fi
    wait "$stress" || true
    for f in "$k" "$l"; do
        f=$f/ch01-stress-ng.tsv
        [ -f "$f" ] || f=$k/ch01-stress-ng.tsv   # no libraries: the same numbers twice
        printf '%s %s %s %s %s %s ' "$(ch1_tsv "$f" plain 5)" "$(ch1_tsv "$f" stress-ng-like 5)" \
            "$(ch1_tsv "$f" plain 8)" "$(ch1_tsv "$f" stress-ng-like 8)" \
            "$(ch1_tsv "$f" cpu:plain 5)" "$(ch1_tsv "$f" cpu:stress-ng-like 5)"
    done
    f=$k/ch01-stress-ng.tsv
    for v in setsid+vhangup sched_yield child-calls parent-table; do
        awk -v a="$(ch1_tsv "$f" "$v" 5)" -v b="$(ch1_tsv "$f" plain 5)" -v ac="$(ch1_tsv "$f" "cpu:$v" 5)" \
            -v bc="$(ch1_tsv "$f" cpu:plain 5)" 'BEGIN { printf "%.1f %.1f ", a - b, ac - bc }'
    done
    # stress-ng's rates: forks per second of wall time, and per second of CPU (usr+sys of the
    # worker and its children)
    awk '$4 == "fork" && $9 > 0 && $10 > 0 { printf "%.1f %.1f\n", 1e6 / $9, 1e6 / $10 }' "$s"
}

ch1_stress() {
    local ours=$1 rounds=${CH01_PEER_ROUNDS:-5} libs="" i maps=? col lib_maps=""
    have stress-ng stress-ng || return 0
    if ldd "$build/ch01-fork" | grep -q 'libasan\|libubsan'; then
        echo "  (a sanitizer build cannot preload stress-ng's libraries: that row is left out)"
    else
        libs=$(ldd "$(command -v stress-ng)" | awk '$3 ~ /^\// && $3 !~ /\/libc\.so/ { print $3 }' | paste -sd:)
    fi
    : >"$tmp/ch1-rounds.txt"
    for ((i = 1; i <= rounds; i++)); do
        ch1_round "$i" "$libs" >>"$tmp/ch1-rounds.txt" || return 1
    done
    [ -s "$tmp/stress-maps.txt" ] && maps=$(cat "$tmp/stress-maps.txt")
    awk 'NF != 22' "$tmp/ch1-rounds.txt" | grep -q . &&
        { echo "peers: a round gave no numbers:"; cat "$tmp/ch1-rounds.txt" "$tmp"/stress*.txt; return 1; }
    local m=()   # the median over the rounds of each column
    for col in $(seq 1 22); do m+=("$(cut -d' ' -f"$col" "$tmp/ch1-rounds.txt" | ch1_median)"); done
    local theirs=${m[20]} their_cpu=${m[21]}
    local kit_maps
    ch1_image() { sed -n 's/.*parent_mappings=\([0-9]*\).*parent_anon_kib=\([0-9-]*\).*/\1 mappings, \2 KiB anonymous/p' "$1"; }
    kit_maps=$(ch1_image "$tmp/ch1-kit1/ch01-stress-ng.tsv")
    [ -n "$libs" ] && lib_maps=$(ch1_image "$tmp/ch1-libs1/ch01-stress-ng.tsv")
    echo "  fork + _exit + wait, us per fork, medians of $rounds rounds (each: the kit, the kit with"
    echo "  stress-ng's libraries preloaded, stress-ng --timeout 2s; ch01-fork --quick --only stress-ng --trials 3):"
    printf '  %-62s %9s %9s %9s\n' "" median "mean" CPU \
        "ch01-fork methods/fork (--trials ${CH01_PEER_TRIALS:-15})" "$ours" - - \
        "ch01-fork plain" "${m[0]}" "${m[2]}" "${m[4]}" \
        "ch01-fork stress-ng-like" "${m[1]}" "${m[3]}" "${m[5]}"
    [ -n "$libs" ] && printf '  %-62s %9s %9s %9s\n' \
        "ch01-fork plain, stress-ng's libraries preloaded" "${m[6]}" "${m[8]}" "${m[10]}" \
        "ch01-fork stress-ng-like, stress-ng's libraries" "${m[7]}" "${m[9]}" "${m[11]}"
    printf '  %-62s %9s %9s %9s\n' "stress-ng --fork 1 --fork-max 1" - "$theirs" "$their_cpu"
    echo "  (mean = wall time / forks, how stress-ng counts; CPU = parent's + children's usr+sys)"
    echo "  the forking process: ch01-fork $kit_maps${lib_maps:+; with the libraries $lib_maps};"
    echo "  stress-ng's worker $maps"
    awk -v t="$theirs" -v o="$ours" -v p="${m[2]}" -v l="${m[9]}" -v tc="$their_cpu" -v lc="${m[11]}" \
        -v pc="${m[4]}" -v libs="$libs" 'BEGIN {
        printf "  ratio stress-ng / ch01-fork fork row: %.2f; stress-ng / the kit'"'"'s plain mean: %.2f; CPU %.2f\n", t / o, t / p, tc / pc
        if (libs != "")
            printf "  ratio stress-ng / the kit'"'"'s stress-ng-like with its libraries: wall (mean) %.2f, CPU %.2f\n", t / l, tc / lc }'
    echo "  what each ingredient adds, us per fork, wall / CPU (medians of the rounds):"
    awk -v s="${m[12]}" -v sc="${m[13]}" -v y="${m[14]}" -v yc="${m[15]}" -v c="${m[16]}" -v cc="${m[17]}" \
        -v b="${m[18]}" -v bc="${m[19]}" -v p="${m[0]}" -v pc="${m[4]}" -v lp="${m[6]}" -v ll="${m[7]}" \
        -v lpc="${m[10]}" -v llc="${m[11]}" -v llm="${m[9]}" -v t="$theirs" -v libs="$libs" 'BEGIN {
        printf "   the child'"'"'s calls: setsid+vhangup %+.0f / %+.0f, sched_yield %+.0f / %+.0f, all ten %+.0f / %+.0f\n", s, sc, y, yc, c, cc
        printf "   the parent'"'"'s table (125 KiB cleared per fork) %+.0f / %+.0f\n", b, bc
        if (libs != "") {
            printf "   stress-ng'"'"'s libraries under the plain fork %+.0f / %+.0f; all the extras on top of them %+.0f / %+.0f\n", lp - p, lpc - pc, ll - lp, llc - lpc
            printf "   counting as stress-ng does (wall time / forks, not the median) %+.0f; left unexplained %+.0f (%.0f%% of stress-ng'"'"'s time)\n", llm - ll, t - llm, 100 * (t - llm) / t
        } }'
    peer_row 1 "fork + _exit + wait, us per process" "$ours" "$theirs" "stress-ng --fork 1 --fork-max 1"
    [ -n "$libs" ] && peer_row 1 "fork + _exit + wait, us per process (kit: stress-ng-like loop, its libraries, wall/forks)" \
        "${m[9]}" "$theirs" "stress-ng --fork 1 --fork-max 1"
    return 0
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

ch1_start_calls() {   # ch1_start_calls TRACE: how each process that ran /bin/true was made, counted
    # (strace -f, one file: "PID call(...) = CHILD", or its "<unfinished ...>" and "resumed>" halves)
    awk '/execve\("\/bin\/true"/ { ran[$1] = 1 }
        / <unfinished \.\.\.>$/ { pending[$1] = $0; next }
        { line = $0 }
        /resumed>/ { line = pending[$1] " " $0 }
        line ~ /^[0-9]+ +(clone3?|vfork|fork)\(/ && line ~ /= [0-9]+$/ {
            call = line; sub(/^[0-9]+ +/, "", call); sub(/\(.*/, "", call)
            flags = ""
            if (match(line, /flags=[A-Z_|0-9]+/)) flags = " " substr(line, RSTART, RLENGTH)
            made[$NF] = call flags
        }
        END { for (c in ran) print (c in made ? made[c] : "(not seen)") }' "$1" |
        sort | uniq -c | awk '{ n = $1; $1 = ""; printf "%s%s (%d)", (NR > 1 ? "; " : ""), substr($0, 2), n }'
}

# Which call hyperfine -N uses to start its command, beside the kit's two rows that start
# /bin/true: posix_spawn (glibc: clone3 with CLONE_VM|CLONE_VFORK, no copy of the page tables)
# and fork+exec (a full copy first). The kind of call decides which row is its peer.
ch1_hyperfine_trace() {
    command -v strace >/dev/null && command -v hyperfine >/dev/null || return 0
    local d="$tmp/strace-start" theirs ours
    mkdir -p "$d"
    strace -f -o "$d/h" -e trace=clone,clone3,vfork,fork,execve hyperfine -N --runs 3 --warmup 0 \
        --style none /bin/true >/dev/null 2>&1 || return 0
    strace -f -o "$d/k" -e trace=clone,clone3,vfork,fork,execve "$build/ch01-fork" --quick \
        --only methods --trials 1 --out "$d/out" >/dev/null 2>&1 || return 0
    theirs=$(ch1_start_calls "$d/h") ours=$(ch1_start_calls "$d/k")
    [ -n "$theirs" ] && [ -n "$ours" ] || return 0
    echo "  under strace, the call that made each process running /bin/true (count):"
    echo "   hyperfine -N: $theirs"
    echo "   ch01-fork --only methods: $ours"
    if [[ $theirs == *CLONE_VFORK* && $theirs != *"; "* ]]; then
        echo "   hyperfine starts its command as posix_spawn does (no copy of the page tables):"
        echo "   its peer is the posix_spawn row; fork+exec pays a copy that hyperfine does not."
    fi
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
    ch1_hyperfine_trace
    ch1_python "$methods"
}
