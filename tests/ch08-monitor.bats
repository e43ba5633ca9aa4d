#!/usr/bin/env bats
# Chapter 8: monitoring a process tree from /proc. Exact facts (exit codes, counts, schemas, the
# bounds the kernel's accounting guarantees), never timings.

load test_helper

setup_file() {
    quick_run_once ch08-monitor
}

# the rows of a special table, without metadata and header
rows() { grep -v '^#' "$1" | tail -n +2; }

# sampled CPU never above wait4's account (1 ms of rounding), and below it by no more than the
# time between the last sample and the reaping (one thread cannot use more): for every process
# that was reaped by the monitor, has no children of its own and was sampled at least once
# Sampled CPU never above wait4's, and below it by at most the time after the last sample plus
# one scheduler tick (10 ms at HZ = 100: a running task's schedstat moves at ticks) and rounding.
assert_cpu_within_rusage() {
    run awk -F'\t' '!/^#/ && $1 != "slot" && $10 != "nan" && $2 != "spawner" && $7 > 0 {
        sampled = $8; truth = $9; gap = $10 - $6
        if (sampled > truth + 1 || truth - sampled > gap + 12) print "bad:", $0 }' "$1"
    assert_output ""
}

@test "quick run exits 0 and prints every experiment's conclusion" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    refute_output --partial "verification failed"
    assert_output --partial "effective CPUs:"
    assert_output --partial "-> a peak-only summary says:"
    assert_output --partial "-> every sample of a process reads stat and schedstat"
    assert_output --partial "-> the sampler reads one of 8 processes for"
    assert_output --partial "-> every 10 ms the samples missed"
    assert_output --partial "-> alone a worker waited"
}

@test "quick run: the memory line counts the RSS sizes its timeline rows hold, and says 'grew' from three" {
    local sizes
    sizes=$(awk -F'\t' '!/^#/ && $3 == "memory" { if (pid == "") pid = $4
        if ($4 == pid && (n == 0 || $8 != last)) { n++; last = $8 } } END { print n + 0 }' \
        "$QUICK/ch08-timeline.tsv")
    run cat "$BATS_FILE_TMPDIR/out"
    if [ "$sizes" -ge 3 ]; then
        assert_line --regexp "^     memory grew to [0-9.]+ MiB over [0-9.]+ s, not all at once \($sizes sizes sampled\)$"
    else
        assert_line --regexp "^     memory reached [0-9.]+ MiB over [0-9.]+ s; the samples saw $sizes sizes? of it, too few to show how it grew$"
    fi
}

@test "quick run: the floor and run-delay lines take one of their guarded forms, no unmeasured CPU %" {
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "parsing nothing, [0-9.]+% \((the floor of such a sampler here: [0-9]+% of the loop|as much as the whole loop: the loop's parsing is within the noise here); with 1 ms of timer slack [0-9.]+%\)"
    assert_line --regexp "^  -> alone a worker waited [0-9]+% of its time for a CPU; [0-9]+ workers on [0-9]+ CPUs waited [0-9]+% \(ideal: 50%\): (the oversubscription shows as run delay|(within 10 points of|over 10 points less than) alone, no oversubscription seen this run)$"
    refute_output --partial "not as CPU %"
}

@test "quick run: every short-lived child is counted, exactly 15" {
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "the sampler saw [0-9]+ of the 15 short-lived children \(all 15 ran: counted\)"
}

@test "quick run leaves no process behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "writes the five TSV tables in the kit's format" {
    assert_tsv_files "$QUICK" ch08 timeline processes overhead accuracy run-delay
}

@test "processes: the mixed workload's five processes, each once, each exited 0 and reaped" {
    run awk -F'\t' '!/^#/ && $1 != "slot" && $2 != "short" { print $2, $16 }' "$QUICK/ch08-processes.tsv"
    assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "memory exit:0 ping exit:0 pong exit:0 spawner exit:0 spin-0 exit:0 "
}

@test "processes: short-lived children are the spawner's, at most 15 seen, reaped by it" {
    local spawner
    spawner=$(awk -F'\t' '$2 == "spawner" { print $3 }' "$QUICK/ch08-processes.tsv")
    run awk -F'\t' -v s="$spawner" '$2 == "short" && ($4 != s || $9 != "nan") { print "bad:", $0 }' \
        "$QUICK/ch08-processes.tsv"
    assert_output ""
    [ "$(awk -F'\t' '$2 == "short"' "$QUICK/ch08-processes.tsv" | wc -l)" -le 15 ]
}

@test "processes: sampled CPU within wait4's account, short by at most the time after the last sample" {
    assert_cpu_within_rusage "$QUICK/ch08-processes.tsv"
}

@test "timeline: 11 fields a row, time never decreasing, valid CPUs, every pid in the processes table" {
    run awk -F'\t' -v cpus="$(nproc)" 'NF != 11 || $1 < t || $6 < 0 || $6 >= cpus || $5 !~ /^[A-Za-z]$/ {
        print "bad:", $0 } { t = $1 }' <(rows "$QUICK/ch08-timeline.tsv")
    assert_output ""
    run comm -23 <(rows "$QUICK/ch08-timeline.tsv" | cut -f4 | sort -u) \
        <(rows "$QUICK/ch08-processes.tsv" | cut -f3 | sort -u)
    assert_output ""
}

@test "timeline: context switches read at a process's first sample and at least every 10th (nan between)" {
    run awk -F'\t' '{ p = $4; missing = $9 == "nan" }
        ($10 == "nan") != missing || (!missing && ($9 !~ /^[0-9]+$/ || $10 !~ /^[0-9]+$/)) {
            print "bad:", $0 }
        !(p in seen) && missing { print "first row without switches:", $0 }
        { seen[p] = 1; gap[p] = missing ? gap[p] + 1 : 0 }
        gap[p] > 9 { print "10 rows in a row without switches:", $0 }' <(rows "$QUICK/ch08-timeline.tsv")
    assert_output ""
    run awk -F'\t' '$13 !~ /^[0-9]+$/ || $14 !~ /^[0-9]+$/ { print "bad:", $0 }' \
        <(rows "$QUICK/ch08-processes.tsv")
    assert_output ""
}

@test "overhead, accuracy, run-delay: the rows quick mode promises" {
    local n expected=""
    for n in 1 4 8; do expected+="per-sample/$n per-process/$n per-process-every-file/$n per-process-reopen/$n "; done
    run awk -F'\t' '!/^#/ && $1 != "variant" && $1 !~ /^(read|reopen)-/ && $1 != "syscall" {
        printf "%s/%s ", $1, $2 }' "$QUICK/ch08-overhead.tsv"
    expected+="loop/10 loop-every-file/10 floor/10 floor-slack-1ms/10 wake-ups/10 predicted/10 "
    assert_output "$expected"
    run awk -F'\t' '$1 ~ /^(read|reopen)-/ || $1 == "syscall" { printf "%s ", $1 }' "$QUICK/ch08-overhead.tsv"
    local f files=""
    for f in stat status schedstat children statm io smaps_rollup; do files+="read-$f reopen-$f "; done
    assert_output "${files}syscall "
    run awk -F'\t' '!/^#/ && $1 != "variant" { printf "%s/%s ", $1, $2 }' "$QUICK/ch08-accuracy.tsv"
    assert_output "spin-cpu-missed/10 short-seen/10 spin-cpu-missed/100 short-seen/100 "
    run awk -F'\t' '!/^#/ && $1 == "waiting-share" { printf "%s ", $2 }' "$QUICK/ch08-run-delay.tsv"
    assert_output "1 $((2 * $(nproc))) "
    run awk -F'\t' '$1 == "short-seen" && ($5 < 0 || $7 > 100) { print "bad:", $0 }' "$QUICK/ch08-accuracy.tsv"
    assert_output ""
}

@test "a known spin workload: two workers, wait4 agrees with the samples within the gap after the last" {
    run kit ch08-monitor --workload pool --workers 2 --duration 300 --out "$BATS_TEST_TMPDIR"
    assert_success
    refute_output --partial "verification failed"
    run awk -F'\t' '$2 ~ /^spin-/ { print $2, $16 }' "$BATS_TEST_TMPDIR/ch08-processes.tsv"
    assert_output $'spin-0 exit:0\nspin-1 exit:0'
    assert_cpu_within_rusage "$BATS_TEST_TMPDIR/ch08-processes.tsv"
    assert_tsv_files "$BATS_TEST_TMPDIR" ch08 timeline processes
}

@test "short-lived workload: all 40 children ran, counted twice (their parent and a pipe)" {
    run kit ch08-monitor --workload short-lived --children 40 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --regexp "the sampler saw [0-9]+ of the 40 short-lived children \(all 40 ran: counted\)"
}

@test "every workload runs and verifies (memory, ping-pong, oversubscribed)" {
    local w
    for w in memory ping-pong oversubscribed; do
        run kit ch08-monitor --workload "$w" --duration 150 --size 4M --out "$BATS_TEST_TMPDIR/$w"
        assert_success
        refute_output --partial "verification failed"
    done
    run awk -F'\t' '$2 ~ /^spin-/' "$BATS_TEST_TMPDIR/oversubscribed/ch08-processes.tsv"
    assert_equal "${#lines[@]}" "$((2 * $(nproc)))"
}

@test "-- COMMAND: its exit status is passed on, its tree written to the timeline" {
    run kit ch08-monitor --out "$BATS_TEST_TMPDIR" -- sh -c 'sleep 0.1 & wait; exit 3'
    assert_failure 3
    assert_output --partial "sh exited with status 3"
    run awk -F'\t' '$2 == "sh" && $16 == "exit:3"' "$BATS_TEST_TMPDIR/ch08-processes.tsv"
    assert_equal "${#lines[@]}" 1
    assert_tsv_files "$BATS_TEST_TMPDIR" ch08 timeline processes
}

@test "-- COMMAND killed by a signal: 128 + the signal, like a shell" {
    run kit ch08-monitor --out "$BATS_TEST_TMPDIR" -- sh -c 'kill -TERM $$'
    assert_failure 143
    assert_output --partial "killed by signal 15"
}

@test "-- COMMAND: an orphan in its process group is stopped and reaped, nothing left" {
    start_in_session ch08-monitor --out "$BATS_TEST_TMPDIR" -- sh -c '(sleep 30 &); exit 0'
    wait_kit 20
    assert_equal "$KIT_STATUS" 0
    assert_session_empty "$KIT_PID"
}

@test "-- COMMAND with more processes than descriptors to keep open: every one still sampled" {
    # 21 processes x 4 kept files > 40 descriptors: past the limit the sampler opens, reads and
    # closes instead of dropping the process (each sleep lives 3 s; a sample comes every 10 ms)
    run bash -c 'ulimit -n 40 && exec "$0" "$@"' "$KIT_BUILD/ch08-monitor" --out "$BATS_TEST_TMPDIR" \
        -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 3 & done; wait'
    assert_success
    refute_output --partial "verification failed"
    run awk -F'\t' '$2 == "sleep" && $7 > 0' "$BATS_TEST_TMPDIR/ch08-processes.tsv"
    assert_equal "${#lines[@]}" 20
}

@test "-- COMMAND with 60 children: a children list longer than its first buffer, every one sampled" {
    # 60 pids of 3 to 7 digits make a list of 240 to 480 bytes; the buffer kept per process
    # starts at 256 and grows while a read fills it. All 60 sleep for 2 s after the last one
    # starts (a sample comes every 10 ms), then all are killed at once: a list cut short would
    # show the last ones only as zombies, once the first ones are reaped.
    run kit ch08-monitor --out "$BATS_TEST_TMPDIR" -- \
        sh -c 'p=; for i in $(seq 60); do sleep 30 & p="$p $!"; done; sleep 2; kill $p; wait'
    assert_success
    refute_output --partial "verification failed"
    run awk -F'\t' '$3 == "sleep" && $5 == "S" { print $4 }' "$BATS_TEST_TMPDIR/ch08-timeline.tsv"
    assert_equal "$(sort -u <<<"$output" | wc -l)" 61
}

@test "-- COMMAND named with ') (' in it: stat's fields counted from the last ')'" {
    cp "$(command -v sleep)" "$BATS_TEST_TMPDIR/x) (y"
    run kit ch08-monitor --out "$BATS_TEST_TMPDIR" -- "$BATS_TEST_TMPDIR/x) (y" 0.5
    assert_success
    refute_output --partial "verification failed"
    local pid
    pid=$(awk -F'\t' '$2 == "x) (y" && $7 > 0 && $16 == "exit:0" { print $3 }' "$BATS_TEST_TMPDIR/ch08-processes.tsv")
    [ -n "$pid" ] || fail "no sampled row for 'x) (y': $(cat "$BATS_TEST_TMPDIR/ch08-processes.tsv")"
    # a field counted one off reads exit_signal (17) as the CPU, or a letter from the name as the state
    run awk -F'\t' -v p="$pid" -v cpus="$(nproc)" '$4 == p && ($5 !~ /^[RSDZTtIX]$/ ||
        $6 !~ /^[0-9]+$/ || $6 >= cpus || $8 !~ /^[0-9]+$/) { print "bad:", $0 }' \
        "$BATS_TEST_TMPDIR/ch08-timeline.tsv"
    assert_output ""
}

@test "-- COMMAND: an orphan handed to the monitor after its tree slept is found and sampled" {
    # For 1 s nothing in the tree runs (no children list is read again); then a subshell starts a
    # sleep and ends at once: the sleep is handed to the monitor, its subreaper, which reaps it.
    # Only the monitor's own children list names it: it must be sampled (it lives 2 s).
    run kit ch08-monitor --out "$BATS_TEST_TMPDIR" -- sh -c 'sleep 1; (sleep 2 &); sleep 2.5'
    assert_success
    refute_output --partial "verification failed"
    run awk -F'\t' '!/^#/ && $1 != "slot" && $9 != "nan" && $2 != "sh" {
        print $2, ($7 > 0 ? "sampled" : "unsampled"), $16 }' \
        "$BATS_TEST_TMPDIR/ch08-processes.tsv"
    assert_output "sleep sampled exit:0"
}

@test "-- COMMAND that does not exist: exit 2 before anything runs" {
    usage_error ch08-monitor -- no-such-command-ch08
    assert_line --index 0 "ch08-monitor: --: command 'no-such-command-ch08' not found in PATH"
    usage_error ch08-monitor -- ./no/such/path
}

@test "bad input: one line naming the argument, the usage, exit 2 (11 cases)" {
    usage_error ch08-monitor --frobnicate
    assert_line --index 0 "ch08-monitor: unknown option '--frobnicate'"
    usage_error ch08-monitor --workload bogus
    assert_line --index 0 --partial "--workload: 'bogus' is not a workload"
    usage_error ch08-monitor --period 0
    assert_line --index 0 "ch08-monitor: --period: 0 is out of range (accepted: 1 to 60000)"
    usage_error ch08-monitor --period abc
    assert_line --index 0 --partial "--period: 'abc' is not a whole number"
    usage_error ch08-monitor --workload pool --duration 5
    assert_line --index 0 --partial "--duration: 5 is out of range"
    usage_error ch08-monitor --workload short-lived --children 0
    assert_line --index 0 --partial "--children: 0 is out of range"
    usage_error ch08-monitor --workload memory --size 1K
    assert_line --index 0 --partial "--size: 1K is out of range"
    usage_error ch08-monitor --only bogus
    assert_line --index 0 --partial "--only: 'bogus' is not an experiment"
    usage_error ch08-monitor --workload pool -- true
    assert_line --index 0 "ch08-monitor: --workload and -- COMMAND: watch one or the other"
    usage_error ch08-monitor --
    assert_line --index 0 "ch08-monitor: --: needs a command to run"
    usage_error ch08-monitor --only timeline --workload pool
    assert_line --index 0 --partial "--only picks an experiment"
}

@test "--help prints the usage and exits 0" {
    run kit ch08-monitor --help
    assert_success
    assert_output --partial "Usage: ch08-monitor"
    assert_output --partial "-- COMMAND"
}

@test "SIGINT while watching the mixed workload: prompt exit, every process reaped" {
    interrupt_mid_run INT "watching workload mixed" ch08-monitor --workload mixed --duration 20000 --out "$BATS_TEST_TMPDIR"
}

@test "SIGTERM while watching a command: its whole process group is stopped" {
    interrupt_mid_run TERM "watching sh" ch08-monitor --out "$BATS_TEST_TMPDIR" -- sh -c 'sleep 30 & sleep 30'
}

@test "a killed worker is reported (which worker, which signal, what it ran) and nothing is left" {
    start_in_session ch08-monitor --workload pool --workers 2 --duration 20000 --out "$BATS_TEST_TMPDIR"
    wait_for_output "watching workload pool"
    local worker
    for _ in $(seq 100); do
        worker=$(pgrep -P "$KIT_PID" | head -1 || true)
        [ -n "$worker" ] && break
        sleep 0.05
    done
    kill -KILL "$worker"
    wait_kit 10
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "worker [0-9] \(pid $worker\) killed by signal 9 \(Killed\) \(spin-[0-9]\) while running workload pool"
    assert_session_empty "$KIT_PID"
}

@test "the figures render from the quick run" {
    requires gnuplot
    assert_plots_render 08 "$QUICK"
}

# A python3 that has psutil: the one on PATH, or Debian's.
python_with_psutil() {
    local p
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import psutil' 2>/dev/null && { echo "$p"; return; }
    done
    return 1
}

@test "the Python twin: psutil's first cpu_percent is 0.0; the TSVs are the kit's" {
    local py
    py=$(python_with_psutil) || skip "no python3 with psutil (sudo apt-get install python3-psutil)"
    run timeout 120 "$py" "$KIT_ROOT/chapters/08-monitor/monitor.py" --quick --out "$BATS_TEST_TMPDIR/py"
    assert_success
    assert_output --regexp "first-call: cpu_percent\(\) of a spinning worker: first call 0\.0%"
    assert_output --regexp "accuracy: of [0-9]+ children of 2 ms each, a 100 ms sampler saw [0-9]+%, a 10 ms sampler [0-9]+%"
    # finding the children is called part of a sample only when, timed on its own, it took less
    # than a whole sample (two separate measurements)
    if awk -F'\t' '$1 == "psutil-per-sample" { s = $5 } $1 == "psutil-children-call" { f = $5 }
                   END { exit !(f < s) }' "$BATS_TEST_TMPDIR/py/ch08-python-overhead.tsv"; then
        assert_output --regexp "; of a sample's [0-9]+ us, finding the children takes [0-9]+ us \(it reads all [0-9]+ processes of the machine\);"
    else
        assert_output --regexp "; finding the children \(it reads all [0-9]+ processes of the machine\), timed on its own, took [0-9]+ us, as much as a whole sample \([0-9]+ us\): reading them is within the noise here;"
    fi
    assert_tsv "$BATS_TEST_TMPDIR/py/ch08-python-overhead.tsv" "$BATS_TEST_TMPDIR/py/ch08-python-accuracy.tsv"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$BATS_TEST_TMPDIR/py/ch08-python-overhead.tsv"
    assert_output "$(printf '%s\n' psutil-per-sample psutil-per-process psutil-oneshot-per-process \
        psutil-children-call psutil-loop psutil-loop-period)"
}

@test "the Python twin without psutil: says how to install it and exits 0" {
    requires command python3
    mkdir -p "$BATS_TEST_TMPDIR/nopsutil"
    printf 'raise ImportError("psutil hidden by the test")\n' >"$BATS_TEST_TMPDIR/nopsutil/psutil.py"
    run env PYTHONPATH="$BATS_TEST_TMPDIR/nopsutil" python3 "$KIT_ROOT/chapters/08-monitor/monitor.py" --quick \
        --out "$BATS_TEST_TMPDIR/py"
    assert_success
    assert_output --partial "python3-psutil"
    [ ! -e "$BATS_TEST_TMPDIR/py" ] || [ -z "$(ls -A "$BATS_TEST_TMPDIR/py")" ] || fail "wrote files without psutil"
}
