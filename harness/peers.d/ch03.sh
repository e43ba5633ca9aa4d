# ch03.sh - chapter 3's peers, sourced by harness/peers.sh (which defines have, peer_row,
# median_of, $build and $tmp). One after the other, never at once:
#   perf bench sched pipe     the pipe round trip with both processes on CPU 0, beside the kit's
#                             (ch03-ipc --only latency --pin same). perf times ONE window from
#                             before its fork to after its wait: the fork of perf, every round
#                             trip, the child's exit() and the wait. Its fixed part is measured
#                             with -l 1 and taken out; the kit is also timed as one window of
#                             2000 (ch03-ipc --rounds 2000 --trials 1). Where the fixed part
#                             goes: -l 1 with an exit() that skips the libraries' destructors
#                             (a preloaded shim, built here with cc), with threads (-T), and
#                             perf record's cpu-clock samples; -l 20000 as a check.
#   perf bench mem memcpy     the memcpy ceiling (warm buffers) and the fresh-buffer copy beside
#                             perf's (the same buffer size, timed window and units), and the
#                             ceiling beside perf timing 100 times as many copies (a steady state)
#   python3 ipc.py            the Python twin beside the C channels
# CH03_PEER_SIZE (default 4M) and CH03_PEER_TRIALS (default 9) make it smaller.

ch3_median_max() {   # stdin: numbers; prints "median max"
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)], v[NR] }'
}

ch3_perf_gbs() {   # perf bench mem memcpy's line in GB/s of 10^9 bytes (perf prints 2^30, or 2^20)
    awk '$2 == "GB/sec" { printf "%.4f\n", $1 * 1.073741824 } $2 == "MB/sec" { printf "%.4f\n", $1 * 0.001048576 }'
}

ch3_pipe_us() {   # ch3_pipe_us ARGS...: one perf bench sched pipe run on CPU 0, its usecs/op
    taskset -c 0 perf bench sched pipe "$@" 2>&1 | awk '$2 == "usecs/op" { print $1 }'
}

# The same placement on both sides: taskset pins perf to CPU 0, its two processes inherit it.
# perf's window holds a fixed part (fork, the child's exit, the wait) besides its -l round trips;
# -l 1 is that fixed part with one round trip. The variants alternate round by round, so that a
# change of load touches all of them; each is the median of its runs.
ch3_pipe() {
    local trials=$1 d="$tmp/pipe" i ours one fixed l2000 l20000 threads net quick=
    mkdir -p "$d"
    ch3_quick_exit "$d/quick_exit.so" && quick=$d/quick_exit.so
    "$build/ch03-ipc" --only latency --pin same --trials "$trials" --out "$tmp" >/dev/null
    ours=$(awk -F'\t' '$1 == "pipe" && $2 == 1 { print $5 }' "$tmp/ch03-latency.tsv")
    for i in $(seq "$trials"); do
        ch3_pipe_us -l 1 >>"$d/l1"
        ch3_pipe_us -l 2000 >>"$d/l2000"
        ch3_pipe_us -T -l 1 >>"$d/t1"
        [ -z "$quick" ] || LD_PRELOAD=$quick ch3_pipe_us -l 1 >>"$d/q1"
        ((i % 3 != 1)) || ch3_pipe_us -l 20000 >>"$d/l20000"
        # the kit timed like perf: one window of 2000 round trips (after its warm-up window)
        "$build/ch03-ipc" --only latency --channel pipe --pin same --rounds 2000 --trials 1 \
            --out "$d" >/dev/null
        awk -F'\t' '$1 == "pipe" && $2 == 1 { print $5 }' "$d/ch03-latency.tsv" >>"$d/kit1"
    done
    ch3_median() { ch3_median_max <"$d/$1" | cut -d' ' -f1; }
    fixed=$(ch3_median l1) l2000=$(ch3_median l2000) threads=$(ch3_median t1)
    l20000=$(ch3_median l20000) one=$(ch3_median kit1)
    [ -n "$ours" ] && [ -n "$fixed" ] && [ -n "$l2000" ] && [ -n "$threads" ] && [ -n "$l20000" ] &&
        [ -n "$one" ] ||
        { echo "peers: could not read the pipe round trips"; return 1; }
    # one -l 2000 window = fixed + 2000 round trips; one -l 1 window = fixed + 1 round trip
    net=$(awk -v a="$l2000" -v f="$fixed" 'BEGIN { printf "%.3f", (2000 * a - f) / 1999 }')
    local n20=$(((trials + 2) / 3))
    printf '  %-66s %10s\n' "pipe round trip, both processes on CPU 0" "us"
    printf '  %-66s %10.2f\n' "ch03-ipc latency, pipe, --pin same (median of $trials trials of 500)" "$ours" \
        "  one window of 2000 (--rounds 2000 --trials 1), median of $trials runs" "$one" \
        "taskset -c 0 perf bench sched pipe -l 2000 (median of $trials)" "$l2000"
    printf '  %-66s %10.0f\n' "  its fixed part: -l 1, fork + 1 round trip + exit + wait (median)" "$fixed"
    [ -z "$quick" ] || printf '  %-66s %10.0f\n' \
        "  the same, exit() without destructors (LD_PRELOAD: fflush, _exit)" "$(ch3_median q1)"
    printf '  %-66s %10.0f\n' "  the same with threads, -T -l 1: no fork, no process exit (median)" "$threads"
    printf '  %-66s %10.2f\n' "  -l 2000 without the fixed part: (2000 x -l 2000 - -l 1) / 1999" "$net" \
        "taskset -c 0 perf bench sched pipe -l 20000 (median of $n20)" "$l20000"
    awk -v k="$ours" -v o="$one" -v a="$l2000" -v f="$fixed" -v n="$net" -v b="$l20000" 'BEGIN {
        printf "  ratio perf / kit: -l 2000 %.2f; its fixed part is %.1f us of each of its round trips (%.0f%%)\n", a / k, f / 2000, 100 * f / 2000 / a
        printf "  without it: %.2f against the kit'"'"'s trials, %.2f against the kit'"'"'s one window of 2000;\n", n / k, n / o
        printf "  -l 20000: %.2f (the fixed part %.1f us a round trip there)\n", b / k, f / 20000 }'
    peer_row 3 "pipe round trip, one CPU, us" "$ours" "$l2000" "taskset -c 0 perf bench sched pipe -l 2000"
    peer_row 3 "pipe round trip, one CPU, us: one window of 2000, perf's fork and exit taken out" \
        "$one" "$net" "perf bench sched pipe: (2000 x (-l 2000) - (-l 1)) / 1999"
    ch3_pipe_exit
    ch3_pipe_profile
    return 0
}

# An exit() that skips the exit handlers and the shared libraries' destructors (stdio is still
# flushed): preloaded into perf, it shows what its child's exit() costs inside the window.
ch3_quick_exit() {   # ch3_quick_exit SO: build it; false when there is no compiler
    command -v "${CC:-cc}" >/dev/null || return 1
    printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' \
        'void exit(int status) { fflush(NULL); _exit(status); }' >"${1%.so}.c"
    "${CC:-cc}" -O2 -shared -fPIC -o "$1" "${1%.so}.c" 2>/dev/null
}

# What the child of perf runs in exit(): every shared library's destructor (perf links ~28).
ch3_pipe_exit() {
    local child libs
    LD_DEBUG=files taskset -c 0 perf bench sched pipe -l 1 2>"$tmp/ld-debug.txt" >/dev/null || return 0
    # the child calls no initializer (it inherits them done); its pid is the one that does not
    child=$(awk '/calling init:/ { init[$1] = 1 } /calling fini:/ { fini[$1] = 1 }
        END { for (p in fini) if (!(p in init)) print p }' "$tmp/ld-debug.txt" | head -1)
    [ -n "$child" ] || return 0
    libs=$(awk -v c="$child" '$1 == c && /calling fini: \// { n++ } END { print n + 0 }' "$tmp/ld-debug.txt")
    echo "  (LD_DEBUG=files: perf's child, ending in exit(0), runs the finalizers of $libs shared libraries)"
}

# Where perf's fixed part goes: cpu-clock samples every 50 us of CPU over 10 runs of -l 1,
# parent and child of each run apart. Only the parent's samples up to its child's last one are
# inside the timed window (after it, perf prints and exits itself). Skipped where perf record
# is refused (perf_event_paranoid, containers).
ch3_pipe_profile() {
    local data="$tmp/pipe-fixed.data" runs=10 period_us=50
    perf record -q -e cpu-clock -c $((period_us * 1000)) -g -o "$data" -- \
        sh -c "for i in \$(seq $runs); do taskset -c 0 perf bench sched pipe -l 1; done" \
        >/dev/null 2>"$tmp/record.err" ||
        { echo "  (perf record refused; where the fixed part goes is not measured here)"; return 0; }
    perf script -i "$data" --comm sched-pipe -F pid,time,ip,sym,dso 2>/dev/null >"$tmp/pipe-fixed.txt" ||
        return 0
    echo "  where the fixed part goes, CPU ms per -l 1 run (perf record -e cpu-clock, $runs runs):"
    ch3_profile_table "$period_us" <"$tmp/pipe-fixed.txt"
}

ch3_profile_table() {   # stdin: perf script with call chains; $1: us per sample
    awk -v us="$1" '
    function flush() {
        if (pid == "") return
        n++; sp[n] = pid; st[n] = t; sc[n] = class == "kernel" ? "kernel, other" : class; ss[n] = sym
        if (clone) parent[pid] = 1
        if (!(pid in seen)) { seen[pid] = 1; pids[++np] = pid }
        pid = ""
    }
    /^[[:space:]]*$/ { flush(); next }
    /^ *[0-9]+ +[0-9.]+:/ { flush(); pid = $1; t = $2; sub(":", "", t); frames = 0; clone = 0; class = ""; sym = ""; next }
    {
        frames++
        if ($0 ~ /kernel_clone/) clone = 1
        if (frames == 1) {
            if ($0 ~ /kernel\.kallsyms/) class = "kernel"
            else if ($0 ~ /ld-linux/) class = "dynamic linker: looking up symbols"
            else if ($0 ~ /libc\.so/) class = "libc: free(), exit(), the return from fork"
            else if ($0 ~ /\/perf\)/) class = "perf itself"
            else {
                class = "the other shared libraries (at exit: their destructors)"
                sym = $2   # "[unknown]" where a library has no symbols
            }
        }
        if (class == "kernel" && $0 ~ /exc_page_fault/) class = "kernel: page faults (copy-on-write, library pages mapped in)"
        if (class == "kernel" && $0 ~ /kernel_clone/) class = "kernel: fork, copying the page tables"
    }
    END {
        flush()
        nclass = split("kernel: fork, copying the page tables|kernel: page faults (copy-on-write, library pages mapped in)|" \
            "kernel, other|libc: free(), exit(), the return from fork|dynamic linker: looking up symbols|" \
            "the other shared libraries (at exit: their destructors)|perf itself", classes, "|")
        for (i = 1; i <= np; i++) {
            p = pids[i]
            if (!(p in parent)) continue
            c = ""
            for (j = 1; j <= np; j++)
                if (!(pids[j] in parent) && pids[j] + 0 > p + 0 && (c == "" || pids[j] + 0 < c + 0)) c = pids[j]
            if (c == "") continue
            runs++; child[c] = p; last[c] = 0
        }
        for (i = 1; i <= n; i++) if (sp[i] in child && st[i] > last[sp[i]]) last[sp[i]] = st[i]
        for (c in child) end[child[c]] = last[c]
        for (i = 1; i <= n; i++) {
            if (sp[i] in child) { role = "child"; }
            else if ((sp[i] in end) && st[i] <= end[sp[i]]) role = "parent"
            else continue
            ms[role SUBSEP sc[i]] += us / 1000; tot[role] += us / 1000
            if (role == "child" && ss[i] != "" && ss[i] !~ /^\[/) named[ss[i]]++
        }
        if (!runs) { print "    (no run of perf recorded)"; exit }
        for (r = 0; r < 2; r++) {
            role = r ? "child" : "parent"
            printf "    %-6s %6.2f ms in all:", role, tot[role] / runs
            sep = "\n      "
            for (i = 1; i <= nclass; i++) {
                k = role SUBSEP classes[i]
                if (ms[k] / runs >= 0.05) { printf "%s%.2f %s", sep, ms[k] / runs, classes[i]; sep = ";\n      " }
            }
            printf "\n"
        }
        for (k = 1; k <= 4; k++) {   # the most sampled named functions of those libraries
            best = ""
            for (f in named) if (best == "" || named[f] > named[best]) best = f
            if (best == "") break
            top = top (k > 1 ? ", " : "") best; delete named[best]
        }
        if (top != "") print "      (the child'"'"'s most sampled of those with names: " top ")"
    }'
}

ch3_memcpy() {   # the memcpy ceiling beside perf bench mem memcpy, one run
    local size=$1 trials=$2 t="$tmp/ch03-bandwidth.tsv"
    # memcpy: perf's MB is 2^20 bytes, like the kit's M; it times -l copies after one untimed
    # copy into freshly allocated buffers. The kit's ceiling times the same number of copies a
    # trial (2 at 4M; 2 MiB worth below) but of the same two buffers, trial after trial.
    local bytes loops perf_size copy cold warm zero alone
    bytes=$(numfmt --from=iec "$size")
    loops=$(( bytes >= (1 << 20) ? 2 : (2 << 20) / bytes ))
    if ((bytes % (1 << 20) == 0)); then perf_size=$((bytes >> 20))MB
    elif ((bytes % 1024 == 0)); then perf_size=$((bytes >> 10))KB
    else perf_size=${bytes}B; fi
    "$build/ch03-ipc" --only bandwidth --channel shm-zero-copy --max-size "$size" --trials "$trials" \
        --out "$tmp" >/dev/null 2>&1 || { echo "peers: ch03-ipc --only bandwidth failed"; return 1; }
    copy=$(for i in $(seq $((3 * trials))); do
        perf bench mem memcpy -f default -s "$perf_size" -l "$loops" 2>&1 | ch3_perf_gbs
    done | ch3_median_max)
    [ -n "$copy" ] || { echo "peers: could not read perf's memcpy bandwidth"; return 1; }
    # the same, timing a hundred times as many copies after its one untimed copy
    local many=$((100 * loops)) steady
    steady=$(for i in $(seq $((3 * trials))); do
        perf bench mem memcpy -f default -s "$perf_size" -l "$many" 2>&1 | ch3_perf_gbs
    done | ch3_median_max)
    [ -n "$steady" ] ||
        { echo "peers: could not read perf's memcpy bandwidth (-l $many)"; return 1; }
    local x
    x=$(awk -v b="$bytes" 'BEGIN { print b / 1024 }')
    warm=$(awk -F'\t' -v x="$x" '$1 == "memcpy" && $2 == x { print $5, $7 }' "$t")
    zero=$(awk -F'\t' -v x="$x" '$1 == "shm-zero-copy" && $2 == x { print $5 }' "$t")
    ch3_meta() { sed -n "s/.*[# ]$1=\([^ ]*\).*/\1/p" "$t" | head -1; }
    cold="$(ch3_meta memcpy_fresh_gbs) $(ch3_meta memcpy_fresh_max)"
    alone=$(ch3_meta zero_copy_alone_gbs)
    local tool="perf bench mem memcpy -f default -s $perf_size -l $loops"
    printf '  %-62s %9s %9s\n' "memcpy of $size, $loops copies a trial, GB/s (10^9 B/s)" median best
    printf '  %-62s %9.2f %9.2f\n' "ch03-ipc ceiling: the same buffers, trial after trial" $warm \
        "ch03-ipc, fresh buffers each trial, one untimed copy first" $cold \
        "$tool ($((3 * trials)) runs, GiB/s x 1.074)" $copy \
        "the same with -l $many" $steady
    peer_row 3 "memcpy $size, warm ceiling (median), GB/s" "${warm% *}" "${copy% *}" "$tool"
    peer_row 3 "memcpy $size, fresh buffers (median), GB/s" "${cold% *}" "${copy% *}" "$tool"
    peer_row 3 "memcpy $size, fresh buffers (best), GB/s" "${cold#* }" "${copy#* }" "$tool"
    peer_row 3 "memcpy $size, warm ceiling (median) vs perf timing $many copies, GB/s" \
        "${warm% *}" "${steady% *}" "perf bench mem memcpy -f default -s $perf_size -l $many"
    awk -v w="${warm% *}" -v c="${cold% *}" -v p="${copy% *}" 'BEGIN {
        printf "  ratio perf / ceiling %.2f, perf / fresh buffers %.2f: perf copies buffers it has just\n", p / w, p / c
        printf "  allocated; the ceiling copies the same two, still in the cache (warm / fresh: %.1fx)\n", w / c }'
    awk -v p="${copy% *}" -v q="${steady% *}" -v w="${warm% *}" -v l="$loops" -v m="$many" 'BEGIN {
        r = q / w
        printf "  perf timing %d copies after its untimed one: %.2f GB/s; timing %d: %.2f (%.2fx): " \
            "%s\n", l, p, m, q, q / p, (r >= 0.75 && r <= 1.25) ? \
            sprintf("within 25%% of the kit'"'"'s warm ceiling (%.2f)", r) : \
            sprintf("still %.2f of the kit'"'"'s warm ceiling", r) }'
    [ -n "$zero" ] && awk -v z="$zero" -v c="${warm% *}" -v a="$alone" -v s="$size" 'BEGIN {
        printf "  shm-zero-copy, %s messages across two processes: %.2f GB/s = %.0f%% of the memcpy ceiling,\n", s, z, 100 * z / c
        printf "  %.0f%% of its own ceiling (the same write and check in one process, no IPC: %.2f GB/s)\n", 100 * z / a, a }'
    return 0
}

ch3_python() {   # the Python twin beside the C channels, one after the other
    local size=$1 trials=$2 c="$tmp/ch03-latency.tsv" cb="$tmp/ch03-bandwidth.tsv"
    have python3 python3 || { echo "  (the Python side, chapters/03-ipc/ipc.py, is skipped)"; return 0; }
    [ -f "$c" ] || "$build/ch03-ipc" --only latency --pin same --trials "$trials" --out "$tmp" >/dev/null
    [ -f "$cb" ] || "$build/ch03-ipc" --only bandwidth --channel shm-zero-copy --max-size "$size" \
        --trials "$trials" --out "$tmp" >/dev/null 2>&1
    python3 chapters/03-ipc/ipc.py --quick --only latency --trials "$trials" --out "$tmp" >"$tmp/py3.txt" &&
        python3 chapters/03-ipc/ipc.py --quick --only bandwidth --max-size "$size" --trials "$trials" \
            --out "$tmp" >>"$tmp/py3.txt" ||
        { echo "peers: ipc.py failed:"; cat "$tmp/py3.txt"; return 1; }
    local py="$tmp/ch03-python-latency.tsv" pyb="$tmp/ch03-python-bandwidth.tsv" x
    x=$(awk -v b="$(numfmt --from=iec "$size")" 'BEGIN { print b / 1024 }')
    ch3_at() { awk -F'\t' -v v="$2" -v x="$3" '$1 == v && $2 == x { print $5; exit }' "$1"; }
    local pair k p
    printf '  %-62s %9s %9s\n' "64-byte round trip, one CPU, us: C channel / Python" C Python
    for pair in socketpair:Pipe-bytes socketpair:Pipe pipe:SimpleQueue pipe:Queue shm-zero-copy:shared_memory; do
        k=$(ch3_at "$c" "${pair%%:*}" 1) p=$(ch3_at "$py" "${pair#*:}" 1)
        printf '  %-62s %9s %9s\n' "${pair%%:*} / ${pair#*:}" "$k" "$p"
        peer_row 3 "round trip one CPU us: ${pair%%:*} vs Python ${pair#*:}" "$k" "$p" "python3 ipc.py --quick"
    done
    for pair in memcpy:memcpy shm-zero-copy:shared_memory; do
        k=$(ch3_at "$cb" "${pair%%:*}" "$x") p=$(ch3_at "$pyb" "${pair#*:}" "$x")
        printf '  %-62s %9s %9s\n' "$size one way, GB/s: ${pair%%:*} / ${pair#*:}" "$k" "$p"
        peer_row 3 "$size one way GB/s: ${pair%%:*} vs Python ${pair#*:}" "$k" "$p" "python3 ipc.py --quick"
    done
    echo "  (Python: $(head -1 "$tmp/py3.txt" | cut -d' ' -f2-))"
}

chapter3() {
    local size=${CH03_PEER_SIZE:-4M} trials=${CH03_PEER_TRIALS:-9}
    echo "== chapter 3: pipe round trip with both processes on CPU 0; memcpy bandwidth of one CPU, $size"
    if have perf linux-perf && perf bench sched pipe -l 1000 >"$tmp/perf-probe.txt" 2>&1; then
        ch3_pipe "$trials"
        ch3_memcpy "$size" "$trials"
    else
        [ -s "$tmp/perf-probe.txt" ] && { echo "peers: perf bench refused to run; skipped:"; sed 's/^/  /' "$tmp/perf-probe.txt"; } >&2
    fi
    ch3_python "$size" "$trials"
    echo "  (see book.md, chapter 3, for what the ratios mean)"
}
