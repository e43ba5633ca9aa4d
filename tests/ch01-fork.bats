#!/usr/bin/env bats
# Chapter 1: what does starting a process cost? Behaviour, not timings.

load test_helper

setup_file() {
    quick_run_once ch01-fork
}

@test "quick run exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every child's exit status checked"
    assert_output --partial "effective CPUs:"
    refute_output --partial "verification failed"
}

@test "quick run leaves no process behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "a run leaves no shared memory, message queue, temp file or SysV IPC object" {
    local before after
    before=$(ipc_snapshot ch01-fork)
    run kit ch01-fork --quick --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    after=$(ipc_snapshot ch01-fork)
    assert_equal "$after" "$before"
}

@test "writes the four TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch01 methods batch rss speedup
}

@test "methods: one row per method, in microseconds" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $3 }' "$QUICK/ch01-methods.tsv"
    assert_output "$(printf '%s\n' fork/us vfork/us posix_spawn/us fork+exec/us thread/us)"
}

@test "batch: both strategies for N = 1, 2, 4, 8, 16, 32" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1, $2 }' "$QUICK/ch01-batch.tsv"
    assert_equal "${#lines[@]}" 12
    assert_line "one-at-a-time 32"
    assert_line "all-at-once 1"
}

@test "rss: four variants at 1, 4 and 16 MiB in --quick" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $2 }' "$QUICK/ch01-rss.tsv"
    assert_equal "$(printf '%s\n' "${lines[@]}" | sort -un | tr '\n' ' ')" "1 4 16 "
    assert_equal "${#lines[@]}" 12
}

@test "speedup: P = 1 .. 2 x workers, and speedup at P=1 is exactly 1" {
    run kit ch01-fork --quick --only speedup --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    run awk -F'\t' '$1 == "wall" { print $2 }' "$BATS_TEST_TMPDIR/ch01-speedup.tsv"
    assert_output "$(seq 1 6)"
    run awk -F'\t' '$1 == "speedup" && $2 == 1 { print $5 }' "$BATS_TEST_TMPDIR/ch01-speedup.tsv"
    assert_output 1
}

@test "the effective CPU count is in the TSV metadata" {
    run grep -E '^# effective_cpus=[0-9]+\.[0-9]+$' "$QUICK/ch01-speedup.tsv"
    assert_success
}

@test "--only writes that experiment alone" {
    run kit ch01-fork --quick --only methods --out "$BATS_TEST_TMPDIR/only"
    assert_success
    run ls "$BATS_TEST_TMPDIR/only"
    assert_output "ch01-methods.tsv"
}

@test "a default run leaves the stress-ng experiment out" {
    run ls "$QUICK"
    refute_output --partial "stress-ng"
}

@test "stress-ng: every recipe with its wall, CPU and fault rows, the shared counter checked, nothing left" {
    start_in_session ch01-fork --quick --only stress-ng --trials 2 --out "$BATS_TEST_TMPDIR"
    wait_kit 120
    assert_equal "$KIT_STATUS" 0
    assert_session_empty "$KIT_PID"
    assert_tsv "$BATS_TEST_TMPDIR/ch01-stress-ng.tsv"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $3 "/" $4 }' "$BATS_TEST_TMPDIR/ch01-stress-ng.tsv"
    local recipe expected=""
    for recipe in plain setsid+vhangup sched_yield child-calls parent-table stress-ng-like; do
        expected+="$recipe/us/2"$'\n'"cpu:$recipe/us/2"$'\n'"faults:$recipe/faults/2"$'\n'
    done
    assert_output "${expected%$'\n'}"
    run grep -cE '^# parent_mappings=[0-9]+ parent_rss_kib=[0-9]+ parent_anon_kib=[0-9]+$' \
        "$BATS_TEST_TMPDIR/ch01-stress-ng.tsv"
    assert_output 1
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output --partial "-> stress-ng's loop rebuilt here:"
    refute_output --partial "verification failed"
}

@test "bad input: --only stress-ng refuses a bad --trials before any work" {
    bad_input --only stress-ng --trials 0
    assert_line --index 0 "ch01-fork: --trials: 0 is out of range (accepted: 1 to 100000)"
    refute_output --partial "stress-ng:"
}

@test "--max-rss sets the largest size of the rss experiment" {
    run kit ch01-fork --quick --only rss --max-rss 2M --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    run awk -F'\t' '$1 == "fork" { print $2 }' "$BATS_TEST_TMPDIR/ch01-rss.tsv"
    assert_output "$(printf '1\n2')"
}

@test "--help prints the usage and exits 0" {
    run kit ch01-fork --help
    assert_success
    assert_output --partial "Usage: ch01-fork"
    assert_output --partial "--max-rss SIZE"
}

bad_input() {
    usage_error ch01-fork "$@"
    refute_output --partial "methods:"
}

@test "bad input: unknown flag" {
    bad_input --frobnicate
    assert_line --index 0 "ch01-fork: unknown option '--frobnicate'"
}

@test "bad input: --trials 0, abc, -3 name the argument and the range" {
    bad_input --trials 0
    assert_line --index 0 "ch01-fork: --trials: 0 is out of range (accepted: 1 to 100000)"
    bad_input --trials abc
    assert_line --index 0 "ch01-fork: --trials: 'abc' is not a whole number (accepted: 1 to 100000)"
    bad_input --trials -3
    assert_line --index 0 --partial "--trials: -3 is out of range"
}

@test "bad input: --workers 0" {
    bad_input --workers 0
    assert_line --index 0 --partial "--workers: 0 is out of range (accepted: 1 to 1024)"
}

@test "bad input: a speedup sweep the mode cannot finish is refused with its size" {
    local most=$(( $(nproc) > 8 ? $(nproc) : 8 ))
    bad_input --quick --only speedup --workers 1024
    assert_line --index 0 "ch01-fork: --workers: 1024 makes the speedup experiment fork 2098176 processes per trial (P = 1..2W); --quick allows up to $most (use --full to run it anyway, or --only another experiment)"
    run "$KIT_BUILD/ch01-fork" --quick --only methods --workers 1024 --out "$BATS_TEST_TMPDIR"
    assert_success
}

@test "bad input: --max-rss 10Q is not a size" {
    bad_input --max-rss 10Q
    assert_line --index 0 --partial "--max-rss: '10Q' is not a size"
}

@test "bad input: --max-rss larger than the machine's memory" {
    bad_input --max-rss 100000G
    assert_line --index 0 --regexp "--max-rss: 100000G is out of range \(accepted: 1M to [0-9.]+[MG]\)"
}

@test "bad input: a missing option value" {
    bad_input --trials
    assert_line --index 0 "ch01-fork: --trials needs a value"
}

@test "bad input: --only and --pin accept only their names" {
    bad_input --only nosuch
    assert_line --index 0 "ch01-fork: --only: 'nosuch' is not an experiment (accepted: methods, batch, rss, speedup, stress-ng)"
    bad_input --pin diagonal
    assert_line --index 0 --partial "--pin: 'diagonal' is not a placement"
}

@test "bad input: an --out directory that cannot be created" {
    run kit ch01-fork --quick --out /proc/no-such-dir/x
    assert_failure 2
    assert_line --index 0 --partial "--out: cannot create '/proc/no-such-dir'"
}

@test "SIGINT in the middle of a run: prompt exit, children killed and reaped" {
    interrupt_mid_run INT "batch:" ch01-fork --only batch --trials 1000 --out "$BATS_TEST_TMPDIR"
}

@test "stress-ng: the largest --trials runs (samples off the stack) and stops on SIGINT" {
    interrupt_mid_run INT "stress-ng: trial 2 of 100000" \
        ch01-fork --only stress-ng --trials 100000 --out "$BATS_TEST_TMPDIR"
}

@test "SIGTERM during the speedup experiment: workers do not outlive the parent" {
    interrupt_mid_run TERM "speedup:" ch01-fork --only speedup --full --trials 50 --out "$BATS_TEST_TMPDIR"
}

@test "a killed parent takes its working children with it (PR_SET_PDEATHSIG)" {
    start_in_session ch01-fork --only speedup --full --trials 50 --out "$BATS_TEST_TMPDIR"
    wait_for_output "speedup:"
    sleep 0.3
    kill -KILL "$KIT_PID"
    wait_kit 10
    assert_equal "$KIT_STATUS" 137
    assert_session_empty "$KIT_PID"
}

@test "methods: the posix_spawn sentence agrees with the numbers in the table" {
    local spawn exec
    spawn=$(awk -F'\t' '$1 == "posix_spawn" { print $5 }' "$QUICK/ch01-methods.tsv")
    exec=$(awk -F'\t' '$1 == "fork+exec" { print $5 }' "$QUICK/ch01-methods.tsv")
    run cat "$BATS_FILE_TMPDIR/out"
    refute_output --partial "uses it under the hood"
    if awk -v s="$spawn" -v e="$exec" 'BEGIN { exit !(s < e / 1.5) }'; then
        assert_output --partial "posix_spawn starts the program without that copy"
    elif awk -v s="$spawn" -v e="$exec" 'BEGIN { exit !(s < e) }'; then
        assert_output --regexp "posix_spawn \([0-9]+ us\) is not much cheaper than fork\+exec \([0-9]+ us\):"
    else
        assert_output --regexp "posix_spawn \([0-9]+ us\) was no cheaper than fork\+exec \([0-9]+ us\):"
    fi
}

@test "batch: the sentence agrees with the numbers beside it, and 'most of the time' only when the methods' fork is" {
    local one all eff fork
    one=$(awk -F'\t' '$1 == "one-at-a-time" && $2 == 32 { print $5 }' "$QUICK/ch01-batch.tsv")
    all=$(awk -F'\t' '$1 == "all-at-once" && $2 == 32 { print $5 }' "$QUICK/ch01-batch.tsv")
    eff=$(sed -n 's/^# effective_cpus=//p' "$QUICK/ch01-batch.tsv")
    fork=$(awk -F'\t' '$1 == "fork" { print $5 }' "$QUICK/ch01-methods.tsv")
    run cat "$BATS_FILE_TMPDIR/out"
    refute_output --partial "the tasks barely overlap"
    local overlap="     starting them all first lets the tasks overlap; each start still costs the parent its fork."
    local few="     starting them all first gained little or nothing: with so few effective CPUs the tasks had little room to overlap."
    local other="     starting them all first gained little or nothing in this run."
    if awk -v o="$one" -v a="$all" 'BEGIN { exit !(a < o / 1.2) }'; then
        assert_line "$overlap"
    elif awk -v e="$eff" 'BEGIN { exit !(e < 1.495) }'; then
        assert_line "$few"
    elif awk -v e="$eff" 'BEGIN { exit !(e > 1.505) }'; then
        assert_line "$other"
    else    # the TSV rounds the effective CPUs to two places: either side of 1.5
        assert_output --regexp "^($few|$other)$"
    fi
    assert_output --regexp "     one at a time, [0-9]+ us per process; a bare fork \+ reap \(methods\) took [0-9]+ us, [0-9]+% of that(: the forks, one after another, are most of the time)?\."
    if awk -v f="$fork" -v o="$one" 'BEGIN { s = f / (o / 32); exit !(s > 0.5 && s <= 1) }'; then
        assert_output --partial "% of that: the forks, one after another, are most of the time."
    else
        refute_output --partial "most of the time"
    fi
}

@test "batch without methods: no fork figure to compare with, no per-process line" {
    run kit ch01-fork --quick --only batch --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --regexp "     starting them all first (lets the tasks overlap|gained little or nothing)"
    refute_output --partial "a bare fork + reap (methods)"
}

@test "rss: the sentence agrees with each method's growth, and names no unmeasured cause as fact" {
    local growth
    growth() {
        awk -F'\t' -v v="$1" '$1 == v && $2 == 1 { a = $5 } $1 == v && $2 == 16 { b = $5 } END { print b / a }' \
            "$QUICK/ch01-rss.tsv"
    }
    run cat "$BATS_FILE_TMPDIR/out"
    refute_output --partial "fork copies the page tables, so it grows"
    refute_output --partial "the others copy none"
    if awk -v g="$(growth fork)" 'BEGIN { exit !(g > 1.5) }'; then
        assert_line "     fork grew with the parent's memory (likely its page-table copy; not timed apart here);"
        local v s
        v=$(awk -v g="$(growth vfork)" 'BEGIN { print (g >= 1.5 ? "grew" : "flat") }')
        s=$(awk -v g="$(growth posix_spawn)" 'BEGIN { print (g >= 1.5 ? "grew" : "flat") }')
        case $v/$s in
        flat/flat) assert_line "     vfork and posix_spawn, which share the parent's memory, stayed flat." ;;
        grew/grew) assert_line "     vfork and posix_spawn, which share the parent's memory, grew too: why is not measured here." ;;
        grew/flat) assert_line "     vfork and posix_spawn share the parent's memory, yet vfork grew too (posix_spawn stayed flat):" ;;
        flat/grew) assert_line "     vfork and posix_spawn share the parent's memory, yet posix_spawn grew too (vfork stayed flat):" ;;
        esac
    else
        assert_line "     fork barely grew at these sizes: what the memory adds is within its fixed cost and noise."
    fi
}

@test "a batch child that dies is named with its index and task; exit 1; nothing left" {
    start_in_session ch01-fork --quick --only batch --trials 1 --kill-child 3 --out "$BATS_TEST_TMPDIR"
    wait_kit 30
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch01-fork: batch child 3 \(pid [0-9]+\) killed by signal 9 \(Killed\) while running task 3 \(N = 4, one at a time\); the others were stopped"
    assert_session_empty "$KIT_PID"
}

@test "bad input: --kill-child beyond the batch's children, or without the batch experiment" {
    bad_input --kill-child 32
    assert_line --index 0 "ch01-fork: --kill-child: 32 is out of range (accepted: 0 to 31)"
    bad_input --only speedup --kill-child 1
    assert_line --index 0 --partial "--kill-child: only the batch experiment has children to kill"
}

@test "a speedup worker killed from outside: reported (which worker, which signal), exit 1, no hang" {
    start_in_session ch01-fork --only speedup --full --workers 1 --trials 50 --out "$BATS_TEST_TMPDIR"
    wait_for_output "speedup:" 60
    local victim="" i
    for ((i = 0; i < 200; i++)); do
        # a worker still summing, caught computing so that it cannot finish its share between
        # the look and the kill (one that has already exited is skipped)
        victim=$(ps --ppid "$KIT_PID" -o pid=,stat= | awk '$2 !~ /^Z/ { print $1; exit }')
        [ -n "$victim" ] && kill_while_computing "$victim" && break
        victim=""
        sleep 0.05
    done
    [ -n "$victim" ] || fail "no worker found and killed"
    wait_kit 30
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch01-fork: speedup worker [0-9]+ \(pid $victim\) killed by signal 9 \(Killed\) while summing its share [0-9]+ of [0-9]+; the others were stopped"
    assert_session_empty "$KIT_PID"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 01 "$QUICK"
}

# ---------- the Python twin (spawn.py) and the peers (harness/peers.sh 1) ----------

SPAWN_PY="$KIT_ROOT/chapters/01-fork/spawn.py"

@test "spawn.py: a short run checks every child's status and writes two TSVs in the kit's format" {
    requires command python3
    run timeout 300 python3 "$SPAWN_PY" --quick --trials 1 --max-rss 1M --out "$BATS_TEST_TMPDIR"
    assert_success
    # the thread's line is a ratio of times (never "0x less"); one rss size claims no growth
    assert_line --regexp '^     a new program through subprocess [0-9]+ us; a thread [0-9]+ us \(Process-fork took [0-9]+\.[0-9]x its time\)\.$'
    assert_line "  -> one size only (1 MiB): no growth with the parent's memory to compare."
    refute_output --partial "page-table"
    assert_output --partial "verification: every child's exit status checked (call number % 2), every child reaped"
    refute_output --partial "verification failed"
    assert_tsv "$BATS_TEST_TMPDIR/ch01-python-methods.tsv" "$BATS_TEST_TMPDIR/ch01-python-rss.tsv"
    run sed -n '1p' "$BATS_TEST_TMPDIR/ch01-python-methods.tsv"
    assert_output "# chapter=01 program=spawn.py experiment=methods mode=quick"
    # methods: the three start methods, the bare fork, a new program and a thread, in us
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 "/" $3 "/" $4 }' "$BATS_TEST_TMPDIR/ch01-python-methods.tsv"
    assert_output "$(printf '%s/0/us/1\n' os.fork Process-fork Process-forkserver Process-spawn subprocess thread)"
    # rss: one size (1 MiB), three ways to start a process
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 "/" $3 }' "$BATS_TEST_TMPDIR/ch01-python-rss.tsv"
    assert_output "$(printf '%s/1/us\n' os.fork Process-fork Process-spawn)"
    # the figure draws the Python bars beside the C ones
    if command -v gnuplot >/dev/null; then
        cp "$QUICK/ch01-methods.tsv" "$BATS_TEST_TMPDIR/"
        run "$KIT_ROOT/harness/plot.sh" --data "$BATS_TEST_TMPDIR" --out "$BATS_TEST_TMPDIR/plots" \
            "$KIT_ROOT/plots/ch01-python.gp"
        assert_success
        grep -q 'Py Process-spawn' "$BATS_TEST_TMPDIR/plots/ch01-python.svg" || fail "no Python bars in ch01-python.svg"
        assert_white_background "$BATS_TEST_TMPDIR/plots/ch01-python.svg"
    fi
}

@test "spawn.py: bad input exits 2 naming the option, before any work" {
    requires command python3
    run timeout 120 python3 "$SPAWN_PY" --max-rss 100 --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--max-rss"
    run timeout 120 python3 "$SPAWN_PY" --trials 0 --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--trials"
    [ ! -e "$BATS_TEST_TMPDIR/none" ] || fail "a rejected run created its --out directory"
}

# A PATH with every command of this one except python3 and stress-ng, and a stand-in hyperfine
# that writes what hyperfine's --export-csv writes: 2 ms for /bin/true.
path_for_ch01_peers() {
    local bin
    bin=$(path_without stress-ng hyperfine)
    cat >"$bin/hyperfine" <<'STUB'
#!/bin/sh
while [ $# -gt 0 ]; do
    [ "$1" = --export-csv ] && printf 'command,mean,stddev,median,user,system,min,max\n/bin/true,0.0021,0.0001,0.002,0.0001,0.0005,0.0019,0.003\n' >"$2"
    shift
done
STUB
    chmod +x "$bin/hyperfine"
    if [ "${1:-}" = with-stress-ng ]; then   # 100 forks per second of wall time, 500 of CPU
        cat >"$bin/stress-ng" <<'STUB'
#!/bin/sh
echo "stress-ng: metrc: [1] fork                100      1.00      0.10      0.10       100.00         500.00"
STUB
        chmod +x "$bin/stress-ng"
    fi
    echo "$bin"
}

@test "peers.sh 1: hyperfine beside posix_spawn and fork+exec; without python3 and stress-ng, skipped with the install commands" {
    local bin out="$BATS_TEST_TMPDIR/peers"
    bin=$(path_for_ch01_peers)
    PATH=$bin KIT_NO_INSTALL=1 KIT_BUILD="$KIT_BUILD" CH01_PEER_TRIALS=1 CH01_PEER_RUNS=5 \
        run timeout 300 "$KIT_ROOT/harness/peers.sh" --out "$out" 1
    assert_success
    assert_output --partial "stress-ng not available (install with: sudo apt-get install stress-ng); skipped"
    assert_output --partial "python3 not available (install with: sudo apt-get install python3); skipped"
    assert_output --partial "the Python side, chapters/01-fork/spawn.py, is skipped"
    assert_tsv "$out/peers.tsv"
    # two rows: the stand-in's 2 ms beside the kit's posix_spawn and fork+exec; ratio = peer / kit
    run awk -F'\t' '!/^#/ && $1 != "chapter" { print $1, $4, $5 }' "$out/peers.tsv"
    assert_output "$(printf '1 2000.0 hyperfine -N /bin/true\n%.0s' 1 2)"
    run awk -F'\t' '!/^#/ && $1 != "chapter" { d = $6 - $4 / $3; if (d < -0.001 * $6 || d > 0.001 * $6) print "bad ratio: " $0 }' "$out/peers.tsv"
    assert_output ""
}

@test "peers.sh 1: stress-ng's rate beside the kit's fork row and its stress-ng-like rebuild, every ingredient printed" {
    local bin out="$BATS_TEST_TMPDIR/peers"
    bin=$(path_for_ch01_peers with-stress-ng)
    PATH=$bin KIT_NO_INSTALL=1 KIT_BUILD="$KIT_BUILD" CH01_PEER_TRIALS=1 CH01_PEER_RUNS=5 CH01_PEER_ROUNDS=1 \
        run timeout 300 "$KIT_ROOT/harness/peers.sh" --out "$out" 1
    assert_success
    # the stand-in's 100 forks/s of wall time and 500 per CPU-second: 10000 and 2000 us per fork
    assert_output --regexp "stress-ng --fork 1 --fork-max 1 +- +10000\.0 +2000\.0 "
    assert_output --regexp "ch01-fork stress-ng-like, LD_BIND_NOW=1 +[0-9.e+]+ +[0-9.e+]+ +[0-9.e+]+ +[0-9]+"
    local ingredient
    for ingredient in setsid+vhangup sched_yield child-calls parent-table "lazy binding in each child"; do
        assert_output --partial "   $ingredient"
    done
    run awk -F'\t' '$5 == "stress-ng --fork 1 --fork-max 1" { print $4 }' "$out/peers.tsv"
    assert_output "10000.0"
    assert_tsv "$out/ch01-stress-ng.tsv"
}

@test "the committed Figure 1.5 (plots/reference/ch01-python.svg) draws the Python series" {
    # a figure redrawn without the twin's table would show C alone; redraw it from its run with
    # harness/plot.sh --data plots/reference/data/ch01-python-peers --out DIR plots/ch01-python.gp
    git -C "$KIT_ROOT" ls-files --error-unmatch plots/reference/data/ch01-python-peers/ch01-python-methods.tsv >/dev/null
    grep -q 'Py Process-spawn' "$KIT_ROOT/plots/reference/ch01-python.svg" || fail "no Python bars in plots/reference/ch01-python.svg"
}

# The figure's title from TSV (its "# effective_cpus=" line and its rows as given), drawn alone.
title_of() {
    local name=$1 tsv=$2 dir="$BATS_TEST_TMPDIR/data-$RANDOM"
    mkdir -p "$dir"
    cp "$tsv" "$dir/$name.tsv"
    "$KIT_ROOT/harness/plot.sh" --svg-only --data "$dir" --out "$dir/out" "$KIT_ROOT/plots/$name.gp" >/dev/null 2>&1
    grep -oE '<text>[^<]+</text>' "$dir/out/$name.svg" | sed 's/<[^>]*>//g' | grep -E "$3"
}

@test "Figures 1.2 and 1.3: the titles pick their sentence from the numbers (made-up tables)" {
    requires gnuplot
    local f="$BATS_TEST_TMPDIR/t.tsv"
    # batch: the 32-children medians and the effective CPUs decide, whatever the row order
    batch() {
        printf '# chapter=01 program=fork experiment=batch mode=quick\n# host=t cpus=2\n'
        printf '# effective_cpus=%s\nvariant\tchildren\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\n' "$1"
        printf 'one-at-a-time\t32\tus\t3\t%s\t1\t1\t1\t0\none-at-a-time\t1\tus\t3\t9\t1\t1\t1\t0\n' "$2"
        printf 'all-at-once\t32\tus\t3\t%s\t1\t1\t1\t0\nall-at-once\t1\tus\t3\t9\t1\t1\t1\t0\n' "$3"
    }
    batch 1.90 1000 500 >"$f"
    run title_of ch01-batch "$f" "^N children"
    assert_output "N children: starting them all before waiting lets creation and work overlap"
    batch 1.02 1000 950 >"$f"
    run title_of ch01-batch "$f" "^N children"
    assert_output "N children: with 1.02 effective CPUs, starting them all first gained little or nothing"
    batch 1.90 1000 1250 >"$f"
    run title_of ch01-batch "$f" "^N children"
    assert_output "N children: starting them all before waiting gained little or nothing"
    # rss: "vfork stays flat" only when vfork's own median did not grow 1.5x
    rss() {
        printf '# chapter=01 program=fork experiment=rss mode=quick\n# host=t cpus=2\n'
        printf 'variant\tparent_mib\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\n'
        printf 'fork\t16\tus\t3\t%s\t1\t1\t1\t0\nfork\t1\tus\t3\t200\t1\t1\t1\t0\n' "$1"
        printf 'vfork\t1\tus\t3\t20\t1\t1\t1\t0\nvfork\t16\tus\t3\t%s\t1\t1\t1\t0\n' "$2"
        printf 'posix_spawn\t1\tus\t3\t900\t1\t1\t1\t0\nposix_spawn\t16\tus\t3\t950\t1\t1\t1\t0\n'
    }
    rss 640 21 >"$f"
    run title_of ch01-rss "$f" "MiB fork"
    assert_output "From 1 to 16 MiB fork adds 440 us (likely the page tables); vfork adds 1, posix_spawn 50"
    rss 250 21 >"$f"
    run title_of ch01-rss "$f" "MiB fork"
    assert_output "From 1 to 16 MiB fork grows only 1.2x; vfork stays flat"
    rss 250 60 >"$f"
    run title_of ch01-rss "$f" "MiB fork"
    assert_output "From 1 to 16 MiB fork grows only 1.2x; vfork grows 3.0x"
}
