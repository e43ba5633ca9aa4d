#!/usr/bin/env bats
# Chapter 2: process pools and batching. Behaviour, not timings.

load test_helper

setup_file() {
    quick_run_once ch02-pool
}

# rows VARIANT-COLUMN... of a measurement table, without metadata and header
data_rows() {
    awk -F'\t' '!/^#/ && $1 != "variant"' "$1"
}

@test "quick run exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every map equals a sequential map"
    assert_output --partial "effective CPUs:"
    refute_output --partial "verification failed"
}

@test "quick run leaves no process behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "writes the five TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch02 per-task-vs-pool chunksize overhead shell-pools workers
}

@test "per-task-vs-pool: sequential, per-task, pool and speedup for three task sizes" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$QUICK/ch02-per-task-vs-pool.tsv"
    assert_equal "${#lines[@]}" 12
    assert_equal "$(printf '%s\n' "${lines[@]}" | sort | uniq -c | awk '{ print $1 }' | sort -u)" 3
    run grep -E '^# workers=[0-9]+ chunk=1$' "$QUICK/ch02-per-task-vs-pool.tsv"
    assert_success
}

@test "chunksize: 1, 2, 4, ... below T, then T, plus Python's default chunk" {
    run kit ch02-pool --quick --only chunksize --tasks 100 --workers 2 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    # Pool.map's default for 100 tasks on 2 workers: ceil(100 / 8) = 13
    run awk -F'\t' '$1 == "pool" { print $2 }' "$BATS_TEST_TMPDIR/ch02-chunksize.tsv"
    assert_equal "$(echo $output)" "1 2 4 8 13 16 32 64 100"
    run grep -E '^# tasks=100 python_default_chunk=13 ' "$BATS_TEST_TMPDIR/ch02-chunksize.tsv"
    assert_success
}

@test "chunksize: Python's default chunk already among the powers of two is swept once" {
    run kit ch02-pool --quick --only chunksize --tasks 64 --workers 2 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    # ceil(64 / 8) = 8, a power of two: one row for it, marked, and T = 64 ends the sweep
    assert_equal "$(grep -cE "^  pool .*  Python's default$" <<< "$output")" 1
    assert_output --regexp "pool +8 .*  Python's default"
    run awk -F'\t' '$1 == "pool" { print $2 }' "$BATS_TEST_TMPDIR/ch02-chunksize.tsv"
    assert_equal "$(echo $output)" "1 2 4 8 16 32 64"
}

@test "overhead: start, stop, start+stop for 1..16 workers, a fit, and pool-1 beside the loop" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1, $2 }' "$QUICK/ch02-overhead.tsv"
    assert_line "sequential 1"
    assert_line "pool-1 1"
    for n in 1 2 4 8 16; do
        assert_line "start $n"
        assert_line "stop $n"
        assert_line "start+stop $n"
    done
    run grep -E '^# fit_fixed_us=-?[0-9.e+-]+ fit_per_worker_us=[0-9.e+-]+ tasks=50 framework_us=' "$QUICK/ch02-overhead.tsv"
    assert_success
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "start\+stop = -?[0-9]+ us fixed \+ -?[0-9]+ us per worker"
}

@test "shell-pools: xargs, parallel, the pool running the program and calling the function" {
    requires command parallel
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$QUICK/ch02-shell-pools.tsv"
    assert_output "$(printf '%s\n' xargs parallel pool-exec pool-call)"
}

@test "shell-pools without GNU parallel: the row is skipped and the run says so" {
    local bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    ln -s "$(command -v xargs)" "$bin/xargs"
    run timeout 60 env PATH="$bin" "$KIT_BUILD/ch02-pool" --quick --only shell-pools --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --partial "skipped: GNU parallel is not installed"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$BATS_TEST_TMPDIR/ch02-shell-pools.tsv"
    assert_output "$(printf '%s\n' xargs pool-exec pool-call)"
}

@test "shell-pools: a tool that never stops printing fails verification and is killed" {
    local bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    printf '#!/bin/sh\nexec %s "0 1"\n' "$(command -v yes)" >"$bin/xargs"
    chmod +x "$bin/xargs"
    setsid env PATH="$bin" "$KIT_BUILD/ch02-pool" --quick --only shell-pools --trials 1 \
        --out "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    KIT_PID=$!
    wait_kit 30
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "verification failed: .*/xargs printed more than [0-9]+ result lines"
    assert_session_empty "$KIT_PID"
}

@test "per-worker task counts: one row per worker, summing to T for every map" {
    run kit ch02-pool --quick --only chunksize --tasks 300 --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --partial "tasks per worker:"
    # every (experiment, variant, x) group: 3 workers, tasks summing to map_tasks = 300
    run awk -F'\t' '!/^#/ && $1 != "experiment" { key = $1 " " $3; n[key]++; sum[key] += $5; want[key] = $7 }
        END { for (k in n) print k, n[k], sum[k] == want[k] ? "ok" : "bad " sum[k] " of " want[k] }' \
        "$BATS_TEST_TMPDIR/ch02-workers.tsv"
    assert_equal "${#lines[@]}" 11
    refute_output --partial "bad"
    refute_output --regexp " [0-24-9] ok$"
}

@test "per-worker task counts in the quick run sum to T in every experiment" {
    run awk -F'\t' '!/^#/ && $1 != "experiment" { key = $1 " " $2 " " $3; sum[key] += $5; want[key] = $7 }
        END { for (k in sum) print (sum[k] == want[k] ? "ok " : "bad ") k }' "$QUICK/ch02-workers.tsv"
    assert_success
    refute_output --partial "bad"
    for e in per-task-vs-pool chunksize overhead shell-pools; do
        assert_output --partial "ok $e"
    done
}

@test "chunk larger than T: one chunk per worker at most, still verified" {
    run kit ch02-pool --quick --only overhead --chunk 1000000 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    run awk -F'\t' '$1 == "overhead" { print $5, $6 }' "$BATS_TEST_TMPDIR/ch02-workers.tsv"
    assert_output "50 1"
}

@test "a wrong result from a worker fails verification (exit 1)" {
    run kit ch02-pool --quick --only chunksize --tasks 50 --trials 1 --corrupt-task 17 --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "verification failed: chunksize: task 17 returned"
}

@test "a worker that dies by SIGKILL mid-map: reported with worker, signal and task; exit 1; nothing left" {
    local before
    before=$(ipc_snapshot ch02-pool)
    start_in_session ch02-pool --quick --only chunksize --tasks 50 --trials 1 --kill-task 7 --out "$BATS_TEST_TMPDIR"
    wait_kit 20
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch02-pool: worker [0-9]+ \(pid [0-9]+\) killed by signal 9 \(Killed\) while running task 7; the others were stopped"
    assert_session_empty "$KIT_PID"
    assert_equal "$(ipc_snapshot ch02-pool)" "$before"
}

@test "a worker killed from outside during a map: reported, exit 1, no hang, nothing left" {
    start_in_session ch02-pool --quick --only chunksize --tasks 200000 --trials 1000 --out "$BATS_TEST_TMPDIR"
    wait_for_output "chunksize:"
    sleep 0.3
    local victim
    victim=$(pgrep -P "$KIT_PID" | head -1)
    [ -n "$victim" ] || fail "no worker found"
    kill -KILL "$victim"
    wait_kit 10
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch02-pool: worker [0-9]+ \(pid $victim\) killed by signal 9 \(Killed\) while (running task|idle)"
    assert_session_empty "$KIT_PID"
}

@test "a per-task child that dies is named with its index and task; exit 1; nothing left" {
    start_in_session ch02-pool --quick --only per-task-vs-pool --trials 1 --kill-task 3 --out "$BATS_TEST_TMPDIR"
    wait_kit 60
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch02-pool: per-task child 3 \(pid [0-9]+\) killed by signal 9 \(Killed\) while running task 3 of 100; the others were stopped"
    assert_session_empty "$KIT_PID"
}

@test "SIGINT in the middle of a map: prompt exit, workers killed and reaped" {
    interrupt_mid_run INT "chunksize:" ch02-pool --quick --only chunksize --tasks 200000 --trials 1000 --out "$BATS_TEST_TMPDIR"
}

@test "SIGTERM while xargs runs its jobs: xargs and its jobs are killed as a group" {
    interrupt_mid_run TERM "shell-pools:" ch02-pool --quick --only shell-pools --trials 1000 --out "$BATS_TEST_TMPDIR"
}

@test "--tiny-job K prints the task number and its value" {
    run kit ch02-pool --tiny-job 5
    assert_success
    assert_output --regexp "^5 [0-9]+$"
}

@test "--help prints the usage, with the test switches, and exits 0" {
    run kit ch02-pool --help
    assert_success
    assert_output --partial "Usage: ch02-pool"
    assert_output --partial "--chunk N"
    assert_output --partial "--kill-task K"
}

bad_input() {
    usage_error ch02-pool "$@"
    refute_output --partial "chunksize:"
}

@test "bad input: chunk size 0" {
    bad_input --chunk 0
    assert_line --index 0 "ch02-pool: --chunk: 0 is out of range (accepted: 1 to 1000000)"
}

@test "bad input: more workers than the pool allows" {
    bad_input --workers 257
    assert_line --index 0 "ch02-pool: --workers: 257 is out of range (accepted: 1 to 256)"
    bad_input --workers 0
    assert_line --index 0 --partial "--workers: 0 is out of range"
}

@test "bad input: non-numbers" {
    bad_input --tasks abc
    assert_line --index 0 "ch02-pool: --tasks: 'abc' is not a whole number (accepted: 1 to 1000000)"
    bad_input --chunk 4x
    assert_line --index 0 --partial "--chunk: '4x' is not a whole number"
    bad_input --trials many
    assert_line --index 0 --partial "--trials: 'many' is not a whole number"
    bad_input --kill-task -1
    assert_line --index 0 --partial "--kill-task: -1 is out of range"
}

@test "bad input: unknown flag, unknown experiment, missing value" {
    bad_input --frobnicate
    assert_line --index 0 "ch02-pool: unknown option '--frobnicate'"
    bad_input --only nosuch
    assert_line --index 0 "ch02-pool: --only: 'nosuch' is not an experiment (accepted: per-task-vs-pool, chunksize, overhead, shell-pools)"
    bad_input --chunk
    assert_line --index 0 "ch02-pool: --chunk needs a value"
}

@test "bad input: a test switch naming a task that never runs, with the range that can fire" {
    bad_input --quick --kill-task 999999
    assert_line --index 0 "ch02-pool: --kill-task: 999999 is out of range (accepted: 0 to 1999)"
    bad_input --quick --only overhead --corrupt-task 50
    assert_line --index 0 "ch02-pool: --corrupt-task: 50 is out of range (accepted: 0 to 49)"
    bad_input --quick --only chunksize --tasks 100 --kill-task 100
    assert_line --index 0 "ch02-pool: --kill-task: 100 is out of range (accepted: 0 to 99)"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 02 "$QUICK"
}

# ---------- the Python twin (pools.py) and the peers (harness/peers.sh 2) ----------

POOLS_PY="$KIT_ROOT/chapters/02-pool/pools.py"

requires_python3() {
    command -v python3 >/dev/null || skip "python3 is not installed (sudo apt-get install python3)"
}

# One pools.py --quick --trials 1 run for the tests that read it: $BATS_FILE_TMPDIR/py holds its
# TSVs, out, err and status (the tests of a file run one after the other).
python_quick_once() {
    local dir="$BATS_FILE_TMPDIR/py" status=0
    [ -e "$dir/status" ] && return 0
    mkdir -p "$dir"
    timeout 300 python3 "$POOLS_PY" --quick --trials 1 --out "$dir" >"$dir/out" 2>"$dir/err" ||
        status=$?
    echo "$status" >"$dir/status"
}

@test "pools.py --quick: exit 0, every map verified, three TSVs in the kit's format" {
    requires_python3
    python_quick_once
    local dir="$BATS_FILE_TMPDIR/py"
    [ "$(cat "$dir/status")" = 0 ] || fail "exit $(cat "$dir/status"): $(cat "$dir/err")"
    run cat "$dir/out"
    assert_output --partial "verification: every map equals a sequential map"
    refute_output --partial "verification failed"
    assert_tsv "$dir"/ch02-python-{per-task-vs-pool,chunksize,overhead}.tsv
    run sed -n '1p' "$dir/ch02-python-chunksize.tsv"
    assert_output "# chapter=02 program=pools.py experiment=chunksize mode=quick"
    run ls "$dir"
    assert_equal "$(echo $output)" "ch02-python-chunksize.tsv ch02-python-overhead.tsv ch02-python-per-task-vs-pool.tsv err out status"
}

@test "pools.py --quick: the rows of each experiment, and the fit and pool1 lines harness/peers.sh reads" {
    requires_python3
    python_quick_once
    local dir="$BATS_FILE_TMPDIR/py"
    # per-task-vs-pool: three task loads, four rows each, as ch02-pool writes them
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$dir/ch02-python-per-task-vs-pool.tsv"
    assert_output "$(for l in 1 2 3; do printf '%s\n' sequential per-task pool speedup; done)"
    # chunksize: both maps over the same chunk sizes, ending at T
    run awk -F'\t' '$1 == "Pool.map" { print $2 }' "$dir/ch02-python-chunksize.tsv"
    local pool_chunks=$output
    run awk -F'\t' '$1 == "ProcessPoolExecutor.map" { print $2 }' "$dir/ch02-python-chunksize.tsv"
    assert_equal "$output" "$pool_chunks"
    run grep -oE '^# tasks=[0-9]+' "$dir/ch02-python-chunksize.tsv"
    assert_equal "$(echo "$pool_chunks" | tail -1)" "${output#\# tasks=}"
    # overhead: the loop, a pool of one, start/stop/start+stop of both kinds for N = 1..16
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1, $2 }' "$dir/ch02-python-overhead.tsv"
    assert_line "sequential 1"
    assert_line "ProcessPoolExecutor-1 1"
    for kind in ProcessPoolExecutor Pool; do
        for n in 1 2 4 8 16; do
            assert_line "$kind-start+stop $n"
            assert_line "$kind-stop $n"
        done
    done
    run cat "$dir/out"
    assert_line --regexp "^fit kind=ProcessPoolExecutor fixed_us=-?[0-9]+ per_worker_us=-?[0-9]+$"
    assert_line --regexp "^fit kind=Pool fixed_us=-?[0-9]+ per_worker_us=-?[0-9]+$"
    local per_task="sequential_us_per_task=[0-9.]+ pool1_us_per_task=[0-9.]+"
    assert_line --regexp "^pool1 kind=ProcessPoolExecutor tasks=50 $per_task framework_us=-?[0-9]+$"
}

@test "pools.py chunksize: ch02-pool's chunk sizes, with Pool.map's default ceil(T / 4N) in its place" {
    requires_python3
    # 100 tasks, 3 workers: CPython's Pool._map_async gives ceil(100 / 12) = 9
    run timeout 300 python3 "$POOLS_PY" --quick --only chunksize --tasks 100 --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    for v in Pool.map ProcessPoolExecutor.map; do
        run awk -F'\t' -v v="$v" '$1 == v { print $2 }' "$BATS_TEST_TMPDIR/ch02-python-chunksize.tsv"
        assert_equal "$(echo $output)" "1 2 4 8 9 16 32 64 100"
    done
    run grep -E '^# tasks=100 python_default_chunk=9 ' "$BATS_TEST_TMPDIR/ch02-python-chunksize.tsv"
    assert_success
    # the C program sweeps the same sizes for the same T and workers
    run kit ch02-pool --quick --only chunksize --tasks 100 --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    run awk -F'\t' '$1 == "pool" { print $2 }' "$BATS_TEST_TMPDIR/ch02-chunksize.tsv"
    assert_equal "$(echo $output)" "1 2 4 8 9 16 32 64 100"
}

@test "pools.py's task is ch02-pool's: spin_task(K, 300) equals --tiny-job K" {
    requires_python3
    local k
    for k in 0 5 1999; do
        run kit ch02-pool --tiny-job "$k"
        assert_success
        local c=$output
        run python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import pools; print($k, pools.spin_task($k, 300))" "$KIT_ROOT/chapters/02-pool"
        assert_success
        assert_equal "$output" "$c"
    done
}

@test "pools.py: a wrong result from a worker fails verification (exit 1)" {
    requires_python3
    run timeout 300 python3 "$POOLS_PY" --quick --only chunksize --tasks 50 --trials 1 --corrupt-task 17 --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "pools.py: verification failed: chunksize: Pool.map chunk 1: task 17 returned"
    [ ! -e "$BATS_TEST_TMPDIR/ch02-python-chunksize.tsv" ] || fail "a failed run wrote its TSV"
    run timeout 300 python3 "$POOLS_PY" --quick --only per-task-vs-pool --trials 1 --corrupt-task 3 --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "pools.py: verification failed: per-task: task 3 returned"
}

@test "pools.py: bad input exits 2 naming the option and its range, before any work" {
    requires_python3
    local none="$BATS_TEST_TMPDIR/none"
    run timeout 120 python3 "$POOLS_PY" --trials 0 --out "$none"
    assert_failure 2
    assert_output --partial "--trials: 0 is out of range (accepted: 1 to 1000)"
    run timeout 120 python3 "$POOLS_PY" --tasks 0 --out "$none"
    assert_failure 2
    assert_output --partial "--tasks: 0 is out of range (accepted: 1 to 1000000)"
    run timeout 120 python3 "$POOLS_PY" --workers 257 --out "$none"
    assert_failure 2
    assert_output --partial "--workers: 257 is out of range (accepted: 1 to 256)"
    run timeout 120 python3 "$POOLS_PY" --chunk 0 --out "$none"
    assert_failure 2
    assert_output --partial "--chunk: 0 is out of range (accepted: 1 to 1000000)"
    run timeout 120 python3 "$POOLS_PY" --quick --only overhead --corrupt-task 50 --out "$none"
    assert_failure 2
    assert_output --partial "--corrupt-task: 50 is out of range (accepted: 0 to 49)"
    run timeout 120 python3 "$POOLS_PY" --only nosuch --out "$none"
    assert_failure 2
    assert_output --partial "invalid choice: 'nosuch'"
    refute_output --partial "pools.py: Python"     # the run header: nothing started
    [ ! -e "$none" ] || fail "a rejected run created its --out directory"
}

@test "Figure 2.2 (ch02-chunksize.gp) draws Python's maps beside C's when pools.py's table is there" {
    requires gnuplot
    requires_python3
    python_quick_once
    local data="$BATS_TEST_TMPDIR/data"
    mkdir -p "$data"
    cp "$QUICK/ch02-chunksize.tsv" "$data/"
    run "$KIT_ROOT/harness/plot.sh" --data "$data" --out "$BATS_TEST_TMPDIR/c" "$KIT_ROOT/plots/ch02-chunksize.gp"
    assert_success
    ! grep -q 'Python Pool.map' "$BATS_TEST_TMPDIR/c/ch02-chunksize.svg" || fail "a Python series without its table"
    cp "$BATS_FILE_TMPDIR/py/ch02-python-chunksize.tsv" "$data/"
    run "$KIT_ROOT/harness/plot.sh" --data "$data" --out "$BATS_TEST_TMPDIR/py" "$KIT_ROOT/plots/ch02-chunksize.gp"
    assert_success
    grep -q 'Python Pool.map' "$BATS_TEST_TMPDIR/py/ch02-chunksize.svg" || fail "no Pool.map series"
    grep -q 'Python ProcessPoolExecutor.map' "$BATS_TEST_TMPDIR/py/ch02-chunksize.svg" || fail "no ProcessPoolExecutor.map series"
    assert_white_background "$BATS_TEST_TMPDIR/py/ch02-chunksize.svg"
}

@test "peers.sh 2 without python3: the Python side is skipped with the install command" {
    local bin out="$BATS_TEST_TMPDIR/peers"
    bin=$(path_without)
    PATH=$bin KIT_NO_INSTALL=1 KIT_BUILD="$KIT_BUILD" CH02_PEER_MODE=--quick \
        run timeout 120 "$KIT_ROOT/harness/peers.sh" --out "$out" 2
    assert_success
    assert_output --regexp "ch02-pool \(fork, pipes\) +-?[0-9]+ +-?[0-9]+ +-?[0-9.]+"
    assert_output --partial "python3 not available (install with: sudo apt-get install python3); skipped"
    assert_output --partial "the Python side, chapters/02-pool/pools.py, is skipped"
    [ ! -e "$out/peers.tsv" ] || fail "peers.tsv written without a comparison"
}
