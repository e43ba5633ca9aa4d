# ch08.sh - chapter 8's peers, sourced by harness/peers.sh (which defines have, $build, $tmp).
#
#   chapter 8: per-process CPU % of two busy pool workers as ch08-monitor samples it and as
#              sysstat's pidstat reports it, over the same seconds of the same run; then the
#              sampler's cost per process per sample beside psutil's (monitor.py), one after
#              the other, and what a 10 ms sampling loop costs each.

# ch8_python: a python3 that has psutil (pyenv's may lack Debian's python3-psutil), or nothing
ch8_python() {
    local py
    for py in python3 /usr/bin/python3; do
        command -v "$py" >/dev/null && "$py" -c 'import psutil' 2>/dev/null && { echo "$py"; return 0; }
    done
    return 1
}

ch8_pidstat() {
    echo "== chapter 8: CPU % of each pool worker over the same 4 s: ch08-monitor (every 100 ms) vs pidstat (1 s)"
    have pidstat sysstat || return 0
    local out="$tmp/ch8-pool" monitor workers="" i hz up window
    mkdir -p "$out"
    "$build/ch08-monitor" --workload pool --workers 2 --duration 9000 --period 100 --out "$out" \
        >"$tmp/ch8-monitor.txt" 2>&1 &
    monitor=$!
    for i in $(seq 400); do
        workers=$(pgrep -P "$monitor" | tr '\n' ',' | sed 's/,$//' || true)
        [ "$(tr ',' '\n' <<<"$workers" | grep -c .)" -ge 2 ] && break
        sleep 0.05
    done
    if [ "$(tr ',' '\n' <<<"$workers" | grep -c .)" -lt 2 ]; then
        echo "  the pool's two workers did not start within 20 s; skipped"
        wait "$monitor" || true
        return 0
    fi
    sleep 1
    # the window in the monitor's clock: seconds since boot now, minus when the worker started
    hz=$(getconf CLK_TCK)
    up=$(cut -d' ' -f1 /proc/uptime)
    window=$(awk -v up="$up" -v hz="$hz" '{ printf "%.3f", (up - $22 / hz) * 1000 }' \
        "/proc/${workers%%,*}/stat")
    LC_ALL=C pidstat -u -p "$workers" 1 4 >"$tmp/ch8-pidstat.txt"
    wait "$monitor" || { echo "peers: ch08-monitor failed:"; cat "$tmp/ch8-monitor.txt"; return 1; }
    printf '  %-8s %8s %16s %11s %14s %11s\n' worker pid "monitor CPU %" "pidstat %" "monitor wait %" "pidstat %"
    awk -F'\t' -v rowfile="$tmp/ch8-rows" -v from="$window" -v to="$(awk -v w="$window" 'BEGIN { print w + 4000 }')" '
        FILENAME ~ /timeline/ && !/^#/ && $3 ~ /^spin-/ && $1 > from && $1 <= to {
            p = $4; sum[p] += $7; n[p]++; role[p] = $3
            if (!(p in t0)) { t0[p] = $1; d0[p] = $11 }
            t1[p] = $1; d1[p] = $11 }
        FILENAME ~ /pidstat/ && split($0, f, " ") >= 8 && f[1] == "Average:" && f[3] ~ /^[0-9]+$/ {
            cpu[f[3]] = f[8]; wait[f[3]] = f[7] }
        END {
            for (p in cpu) {
                ours = n[p] ? sum[p] / n[p] : -1
                waited = t1[p] > t0[p] ? 100 * (d1[p] - d0[p]) / (t1[p] - t0[p]) : -1
                printf "  %-8s %8s %16.1f %11.1f %14.1f %11.1f\n", role[p], p, ours, cpu[p], waited, wait[p]
                if (ours >= 0) printf "%s %.1f %s\n", role[p], ours, cpu[p] >rowfile
                if (ours < 0 || ours - cpu[p] > 5 || cpu[p] - ours > 5) far++
                rows++
            }
            if (!rows) print "  pidstat reported no worker (did they end before it did?)"
            else if (far) print "  CPU % differs by more than 5 points"
            else print "  CPU % within 5 percentage points of each other (the goal)"
        }' "$out/ch08-timeline.tsv" "$tmp/ch8-pidstat.txt"
    local role ours theirs
    while read -r role ours theirs; do
        peer_row 8 "CPU % of one CPU, pool worker $role, same 4 s (goal: within 5 points)" \
            "$ours" "$theirs" "pidstat -u -p PIDS 1 4"
    done < <(sort "$tmp/ch8-rows" 2>/dev/null)
    echo "  (pidstat: /proc/PID/stat ticks, 10 ms grain, over 1 s intervals, and %wait from the same"
    echo "   schedstat run delay; ch08-monitor: schedstat nanoseconds every 100 ms. Busy workers on a"
    echo "   shared machine get what the others leave: both must see the same share.)"
}

ch8_psutil() {
    echo "== chapter 8: CPU per process per sample, and a 10 ms sampling loop: ch08-monitor vs psutil"
    local py
    if ! py=$(ch8_python) && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "peers: installing python3-psutil" >&2
        apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq \
            -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3-psutil >&2 || true
    fi
    py=$(ch8_python) || {
        echo "  psutil not available (install with: sudo apt-get install python3-psutil); skipped"
        return 0
    }
    "$build/ch08-monitor" --only overhead --out "$tmp" >/dev/null 2>&1
    "$py" chapters/08-monitor/monitor.py --out "$tmp" >"$tmp/ch8-py.txt"
    local c="$tmp/ch08-overhead.tsv" p="$tmp/ch08-python-overhead.tsv"
    ch8_median() { awk -F'\t' -v v="$2" -v x="$3" '$1 == v && $2 == x { print $5; exit }' "$1"; }
    local c_plain c_every c_reopen c_loop py_plain py_one py_find py_loop py_period
    c_plain=$(ch8_median "$c" per-process 8) c_reopen=$(ch8_median "$c" per-process-reopen 8)
    # psutil reads every field of every process at every sample: so does the C row compared
    c_every=$(ch8_median "$c" per-process-every-file 8)
    c_loop=$(ch8_median "$c" loop 10)
    py_plain=$(ch8_median "$p" psutil-per-process 8) py_one=$(ch8_median "$p" psutil-oneshot-per-process 8)
    py_find=$(ch8_median "$p" psutil-children-call 8) py_loop=$(ch8_median "$p" psutil-loop 10)
    py_period=$(ch8_median "$p" psutil-loop-period 10)
    [ -n "$c_plain" ] && [ -n "$c_every" ] && [ -n "$py_plain" ] || { echo "peers: could not read the overhead tables"; return 1; }
    printf '  %-46s %10s us\n' "ch08-monitor, 8 processes (files kept open)" "$c_plain"
    printf '  %-46s %10s us\n' "ch08-monitor, every file every sample" "$c_every"
    printf '  %-46s %10s us\n' "ch08-monitor, reopening every file" "$c_reopen"
    printf '  %-46s %10s us\n' "psutil (children(), then 5 calls per process)" "$py_plain"
    printf '  %-46s %10s us\n' "psutil inside oneshot()" "$py_one"
    peer_row 8 "us per process per sample, every field (Python: psutil)" "$c_every" "$py_plain" \
        "python3 monitor.py"
    awk -v a="$py_plain" -v b="$c_every" -v f="$py_find" 'BEGIN {
        printf "  ratio psutil / ch08-monitor per process per sample: %.0fx (goal: at least 10x)\n", a / b
        printf "  of psutil'"'"'s %.0f us per process, %.0f us is children(): it reads every process on the machine\n", a, f / 8 }'
    printf '  a 10 ms loop over 8 processes: ch08-monitor %s%% of one CPU; psutil %s%% while keeping a %s ms period\n' \
        "$c_loop" "$py_loop" "$py_period"
    sed -n 's/^first-call: /  psutil first call: /p' "$tmp/ch8-py.txt"
}

chapter8() {  # the kit's sampler beside pidstat and psutil
    ch8_pidstat
    ch8_psutil
}
