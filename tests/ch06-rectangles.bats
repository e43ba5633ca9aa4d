#!/usr/bin/env bats
# Chapter 6: signed Latin rectangles on a process pool. Exact counts and behaviour, not timings.

load test_helper

setup_file() {
    quick_run_once ch06-rectangles
}

# count R N [options]: "positive negative" from the program's output, separators removed
count() {
    run kit ch06-rectangles "$@"
    assert_success
    refute_output --partial "verification failed"
    assert_line --regexp "^verification: "
    local pos neg
    pos=$(awk '$1 == "positive" { gsub(",", "", $2); print $2 }' <<<"$output")
    neg=$(awk '$1 == "negative" { gsub(",", "", $2); print $2 }' <<<"$output")
    echo "$pos $neg"
}

@test "quick analysis exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every run (loop, every pool, both setups, both splits) counted the same"
    assert_output --partial "effective CPUs:"
    assert_output --partial "sequential: 393,120 rectangles; positive and negative match the known values"
}

@test "quick analysis leaves no process behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "writes the five special TSV tables in the kit's format" {
    assert_tsv_files "$QUICK" ch06 timeline workers overhead setup split
}

@test "timeline: every one of the 10 first-column tasks of (4,6) exactly once, 39,312 rectangles each" {
    run awk -F'\t' '!/^#/ && $1 != "worker" { print $2 }' "$QUICK/ch06-timeline.tsv"
    assert_equal "$(sort -n <<<"$output" | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 "
    # (4,6): 393,120 = 10 tasks x 3! x 6,552 counted
    run awk -F'\t' '!/^#/ && $1 != "worker" { print $8 }' "$QUICK/ch06-timeline.tsv"
    assert_equal "$(sort -u <<<"$output")" 39312
}

@test "overhead: the plain loop (0) and pools of 1, 2, 4 workers, each with both dispatches" {
    run awk -F'\t' '!/^#/ && $1 != "workers" { printf "%s/%s ", $1, $2 }' "$QUICK/ch06-overhead.tsv"
    local expected="0/- 1/parent 1/shared 2/parent 2/shared 4/parent 4/shared "
    case "$(nproc)" in 1 | 2 | 4) ;; *) expected+="$(nproc)/parent $(nproc)/shared " ;; esac
    assert_equal "$output" "$expected"
}

@test "overhead: the headline is W <= online CPUs; exactly the rows above them are oversubscribed" {
    local cpus table headline
    cpus=$(getconf _NPROCESSORS_ONLN)
    # the overhead table's pool rows: "W dispatch ... [noisy] [oversubscribed]"
    table=$(awk '/^overhead:/ { on = 1 } /^timeline:/ { on = 0 }
        on && $1 ~ /^[0-9]+$/ && ($2 == "parent" || $2 == "shared")' "$BATS_FILE_TMPDIR/out")
    [ -n "$table" ] || fail "no overhead rows in: $(cat "$BATS_FILE_TMPDIR/out")"
    run awk -v cpus="$cpus" '{ marked = ($NF == "oversubscribed"); if (marked != ($1 + 0 > cpus + 0))
        print "W=" $1 " " $2 " marked " marked }' <<<"$table"
    assert_output ""
    run grep -A1 "^  -> headline: the pool's overhead with W <= $cpus workers (the online CPUs), medians:$" \
        "$BATS_FILE_TMPDIR/out"
    assert_success
    headline=$(tail -1 <<<"$output")
    assert_equal "$(grep -o 'W=[0-9]*' <<<"$headline" | tr '\n' ' ')" \
        "$(awk -v cpus="$cpus" '$2 == "shared" && $1 + 0 <= cpus + 0 { printf "W=%s ", $1 }' <<<"$table")"
    if awk -v cpus="$cpus" '$1 + 0 > cpus + 0 { found = 1 } END { exit !found }' <<<"$table"; then
        run grep -A1 -x "     W > $cpus is oversubscribed and left out of the headline: there a worker may wait for a CPU" \
            "$BATS_FILE_TMPDIR/out"
        assert_success
        assert_line --index 1 "     inside its overhead (not measured here; its run delay would show it)."
    fi
}

# lines_after REGEXP N: the first line of the quick run's output matching REGEXP, and N after it
lines_after() {
    run grep -A"$2" -E "$1" "$BATS_FILE_TMPDIR/out"
    assert_success
}

@test "overhead: the pool of 1 and the speedup at W end in one of their exact sentences" {
    lines_after "^  -> a pool of 1 against the plain loop: [-+][0-9]+\.[0-9]{2} ms wall \([-+][0-9]+\.[0-9]%\), [-+][0-9]+\.[0-9]{2} ms CPU \([-+][0-9]+\.[0-9]%\):$" 2
    case "${lines[1]}" in
    *slower*) assert_line --index 1 --regexp "^     the pool was slower in every trial \(its start alone took [0-9]+\.[0-9]{2} ms\)\.$" ;;
    *faster*)
        assert_line --index 1 "     the pool was faster in every trial; why is not measured here (the loop run in a forked"
        assert_line --index 2 "     child would test whether it is the process)." ;;
    *)
        assert_line --index 1 --regexp "^     the trials' ranges overlap \(loop [0-9]+\.[0-9]{2} to [0-9]+\.[0-9]{2} ms, pool [0-9]+\.[0-9]{2} to [0-9]+\.[0-9]{2} ms\): no cost of the$"
        assert_line --index 2 "     pool stands out of their spread." ;;
    esac
    lines_after "^     At W=$(getconf _NPROCESSORS_ONLN): wall speedup [0-9]+\.[0-9]{2}, CPU-time speedup [0-9]+\.[0-9]{2} \(loop CPU / busiest worker's CPU\) with [0-9]+\.[0-9]{2}$" 4
    case "${lines[1]}" in
    *"within 10%"*) assert_line --index 1 "     effective CPUs; the two are within 10% of each other." ;;
    *"wall-time speedup is the higher"*)
        assert_line --index 1 --regexp "^     effective CPUs; the wall-time speedup is the higher: the loop's wall [0-9]+\.[0-9]{2} ms, its CPU [0-9]+\.[0-9]{2} ms\.$" ;;
    *)
        assert_line --index 1 --regexp "^     effective CPUs; the pool's wall, [0-9]+\.[0-9]{2} ms, is [0-9]+\.[0-9]{2} ms above its busiest worker's CPU time$"
        if [[ "${lines[2]}" == *", no more than"* ]]; then
            assert_line --index 2 --regexp "^     \(medians\), no more than the [0-9]+\.[0-9]{2} ms outside that worker's tasks$"
            assert_line --index 3 "     (its start, dealing and shutdown)."
        else
            assert_line --index 2 --regexp "^     \(medians\): -?[0-9]+\.[0-9]{2} ms of it outside that worker's tasks \(its start, dealing and shutdown\),$"
            assert_line --index 3 --regexp "^     [0-9]+\.[0-9]{2} ms inside them off a CPU \(likely waiting for one; not measured here: the workers'$"
            assert_line --index 4 "     run delay, as chapter 8 reads it, would measure it)."
        fi ;;
    esac
}

@test "overhead: the empty pool's fit names no cause it does not time" {
    run grep -E "^     The empty pool \(shared\) takes " "$BATS_FILE_TMPDIR/out"
    assert_success
    assert_output --regexp "(: about [0-9]+\.[0-9]{3} ms fixed and [0-9]+\.[0-9]{3} ms per worker \(its start and reap, not timed apart\)|: no fixed and per-worker cost stands out of the noise)\.$"
}

@test "timeline: the floor is ceil(tasks / workers), and the most any worker ran is read from its table" {
    local w most per floor
    w=$(getconf _NPROCESSORS_ONLN) # the default --workers
    per=$(((10 + w - 1) / w))
    floor=$(awk -v per="$per" -v w="$w" 'BEGIN { printf "%.2f", per * w / 10 }')
    most=$(awk -F'\t' '!/^#/ && $1 != "worker" && $3 > m { m = $3 } END { print m }' "$QUICK/ch06-workers.tsv")
    lines_after "^  -> per CPU-second each worker counts " 4
    case "${lines[1]}" in
    *"every worker"*) assert_line --index 1 "     every worker within 20% of the loop's rate." ;;
    *)
        assert_line --index 1 "     some worker's rate is more than 20% off the loop's (cause not measured here; the table"
        assert_line --index 2 "     above gives each worker's setup, busy and CPU time)." ;;
    esac
    assert_line --regexp "^     Load imbalance \(max/mean busy time\) [0-9]+\.[0-9]{2}; with 10 equal tasks on $w workers one must run$"
    assert_line --regexp "^     at least $per \(a floor of $floor\); here the most was $most: finer tasks lower it, largest-first$"
}

@test "overhead: every pool row has an empty-pool time, a pool CPU time and a gap, the loop none" {
    run awk -F'\t' '!/^#/ && $1 != "workers" && $1 > 0 && !($10 > 0 && $13 > 0 && $23 > 0) { print }' \
        "$QUICK/ch06-overhead.tsv"
    assert_output ""
    run awk -F'\t' '!/^#/ && $1 == 0 { print $2, $10, $13, $23 }' "$QUICK/ch06-overhead.tsv"
    assert_output "- 0 0 0"
}

@test "split: both splits count the same rectangles, cycle-type with less work" {
    run awk -F'\t' '!/^#/ && $1 != "split" { print $1, $3, $8, $9 }' "$QUICK/ch06-split.tsv"
    assert_line --index 0 --regexp '^first-column [0-9]+ 203040 190080$'
    assert_line --index 1 --regexp '^cycle-type [0-9]+ 203040 190080$'
    local fc cy
    fc=$(cut -d' ' -f2 <<<"${lines[0]}") cy=$(cut -d' ' -f2 <<<"${lines[1]}")
    [ "$cy" -lt "$fc" ] || fail "cycle-type work $cy is not below first-column work $fc"
}

@test "setup: per-task rebuilds the table once per task, per-worker at most once per first symbol" {
    run awk -F'\t' '!/^#/ && $1 != "setup" { print $1, $2 }' "$QUICK/ch06-setup.tsv"
    assert_line --index 0 "per-task 10"
    local per_worker
    per_worker=$(cut -d' ' -f2 <<<"${lines[1]}")
    [ "$per_worker" -le "$((3 * $(nproc)))" ] || fail "per-worker built $per_worker tables"
}

@test "known values: the published small sizes (n <= 6), with every split" {
    local size expected splits
    while read -r r n expected; do
        splits="cycle-type first-column"
        [ "$r" -ge 4 ] && splits+=" cycle-type-fine"
        for split in $splits; do
            assert_equal "$(count "$r" "$n" --split "$split" --workers 2)" "$expected"
        done
    done <<'EOF'
2 4 3 6
3 4 12 12
4 4 24 0
3 5 312 240
4 5 384 960
5 5 384 960
2 6 130 135
3 6 10480 10800
4 6 203040 190080
5 6 576000 552960
6 6 426240 702720
EOF
}

@test "both dispatches (shared pipe, parent) count the same on 3 workers, both splits" {
    local dispatch
    for dispatch in shared parent; do
        assert_equal "$(count 4 7 --split first-column --workers 3 --dispatch "$dispatch")" "77529600 77656320"
        assert_equal "$(count 5 7 --workers 3 --dispatch "$dispatch")" "2029086720 2028257280"
    done
}

@test "each sorted first column of (5,6) gives 9,408 rectangles: 4,800 positive, 4,608 negative" {
    run kit ch06-rectangles 5 6 --split first-column --task 1/1
    assert_success
    run awk -F'\t' 'NR > 1 { print $8, $9, $7 }' <<<"$output"
    assert_equal "$(sort -u <<<"$output")" "4800 4608 24"
    assert_equal "${#lines[@]}" 5
}

@test "r = 2: totals are the derangement numbers, differences (-1)^(n-1) (n-1), n = 2..16" {
    local d0=1 d1=0 d n pos neg
    for n in $(seq 2 16); do
        d=$(((n - 1) * (d0 + d1)))
        d0=$d1 d1=$d
        read -r pos neg <<<"$(count 2 "$n" --workers 1)"
        assert_equal "$((pos + neg))" "$d"
        assert_equal "$((pos - neg))" "$(((n % 2 ? 1 : -1) * (n - 1)))"
    done
}

@test "r = n and r = n - 1 have the same totals (n = 4..7)" {
    local n a b pa na pb nb
    for n in 4 5 6 7; do
        read -r pa na <<<"$(count "$((n - 1))" "$n" --workers 1)"
        read -r pb nb <<<"$(count "$n" "$n" --workers 1)"
        assert_equal "$((pa + na))" "$((pb + nb))"
    done
}

@test "7 x 7: 16,942,080 reduced Latin squares x 6! = 12,198,297,600 normalized squares" {
    run kit ch06-rectangles 7 7 --workers 2
    assert_success
    assert_line --regexp '^  total +12,198,297,600$'
    assert_output --partial "total = 16942080 reduced 7x7 rectangles x 6!/0!"
}

@test "(2..7, 7), (3,8), (4,8) match the published reduced-rectangle counts (smaller sizes: above)" {
    local r n
    for n in 7 8; do
        for r in $(seq 2 "$n"); do
            [ "$n" -lt 8 ] || [ "$r" -le 4 ] || continue
            run kit ch06-rectangles "$r" "$n" --workers 1
            assert_success
            assert_output --regexp "verification: .*total = [0-9]+ reduced ${r}x${n} rectangles"
        done
    done
}

@test "the splits agree on (3,7), (4,7), (6,7) and (3,8)" {
    local size
    for size in "3 7" "4 7" "3 8"; do
        assert_equal "$(count $size --split first-column)" "$(count $size --split cycle-type)"
    done
    for size in "4 7" "6 7"; do
        assert_equal "$(count $size --split cycle-type-fine)" "$(count $size --split cycle-type)"
    done
}

@test "the default split goes finer only when cycle-type gives fewer than 64 tasks and R >= 4" {
    run kit ch06-rectangles 5 7
    assert_line --regexp '^\(5,7\), cycle-type-fine split: 184 tasks'
    run kit ch06-rectangles 4 8
    assert_line --regexp '^\(4,8\), cycle-type split: 105 tasks'
    run kit ch06-rectangles 3 7
    assert_line --regexp '^\(3,7\), cycle-type split: 20 tasks'
}

@test "--task K/T rows merged by --merge equal the single-process count" {
    local k
    for k in 1 2 3; do
        kit ch06-rectangles 5 6 --task "$k/3" >>"$BATS_TEST_TMPDIR/rows.tsv"
    done
    run kit ch06-rectangles 5 6 --merge "$BATS_TEST_TMPDIR/rows.tsv"
    assert_success
    assert_output --partial "every task exactly once"
    assert_line --regexp '^  positive +576,000$'
    assert_line --regexp '^  negative +552,960$'
}

@test "--merge refuses a task that appears twice or is missing" {
    kit ch06-rectangles 4 6 --task 1/2 >"$BATS_TEST_TMPDIR/half.tsv"
    run kit ch06-rectangles 4 6 --merge "$BATS_TEST_TMPDIR/half.tsv"
    assert_failure 1
    assert_output --regexp "verification failed: task [0-9]+ of 81 is missing"
    cat "$BATS_TEST_TMPDIR/half.tsv" "$BATS_TEST_TMPDIR/half.tsv" >"$BATS_TEST_TMPDIR/twice.tsv"
    run kit ch06-rectangles 4 6 --merge "$BATS_TEST_TMPDIR/twice.tsv"
    assert_failure 1
    assert_output --regexp "verification failed: .*task 0 appears twice"
}

@test "cluster script: merged result equals the single-process result" {
    requires command parallel
    run kit ch06-rectangles 5 7 --workers 2
    assert_success
    local single
    single=$(grep -E '^  (positive|negative) ' <<<"$output")
    RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=5 run timeout 60 "$KIT_ROOT/harness/rect-cluster.sh" 5 7 -j2
    assert_success
    assert_output --partial "all 40 tasks exactly once"
    assert_equal "$(grep -E '^  (positive|negative) ' <<<"$output")" "$single"
    [ "$(awk 'NR > 1' "$BATS_TEST_TMPDIR/ch06-cluster-5-7.joblog" | wc -l)" = 5 ] || fail "joblog: $(cat "$BATS_TEST_TMPDIR/ch06-cluster-5-7.joblog")"
}

@test "cluster script: a job that fails once is retried and the result is still exact" {
    requires command parallel
    # job 2 prints half a row and fails on its first attempt only
    cat >"$BATS_TEST_TMPDIR/flaky" <<EOF
#!/bin/sh
case "\$*" in *"--task 2/"*)
    if [ ! -e "$BATS_TEST_TMPDIR/failed-once" ]; then
        touch "$BATS_TEST_TMPDIR/failed-once"; printf '3\t24\tcycle-type\t4'; exit 1
    fi ;;
esac
exec "$KIT_BUILD/ch06-rectangles" "\$@"
EOF
    chmod +x "$BATS_TEST_TMPDIR/flaky"
    RECT_PROGRAM="$BATS_TEST_TMPDIR/flaky" RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=4 \
        run timeout 60 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j2
    assert_success
    [ -e "$BATS_TEST_TMPDIR/failed-once" ] || fail "the flaky job never failed"
    assert_output --partial "all 24 tasks exactly once"
    assert_line --regexp '^  positive +203,040$'
    assert_line --regexp '^  negative +190,080$'
}

@test "cluster script: a job stuck on its first attempt is killed by RECT_TIMEOUT and retried" {
    requires command parallel
    # job 2 hangs on its first attempt only; without a per-job timeout the run would never end
    cat >"$BATS_TEST_TMPDIR/stuck" <<EOF
#!/bin/sh
case "\$*" in *"--task 2/"*)
    if [ ! -e "$BATS_TEST_TMPDIR/stuck-once" ]; then
        touch "$BATS_TEST_TMPDIR/stuck-once"; exec sleep 297
    fi ;;
esac
exec "$KIT_BUILD/ch06-rectangles" "\$@"
EOF
    chmod +x "$BATS_TEST_TMPDIR/stuck"
    RECT_PROGRAM="$BATS_TEST_TMPDIR/stuck" RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 RECT_TIMEOUT=3 \
        run timeout 60 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j2
    assert_success
    [ -e "$BATS_TEST_TMPDIR/stuck-once" ] || fail "the stuck job never ran"
    assert_output --partial "all 24 tasks exactly once"
    assert_line --regexp '^  positive +203,040$'
    assert_line --regexp '^  negative +190,080$'
}

@test "cluster script: a job that is always stuck fails the run after its attempts" {
    requires command parallel
    # each attempt notes its pid: other runs of this test on the machine have sleeps of their own
    printf '#!/bin/sh\necho $$ >>"%s/hang-pids"\nexec sleep 296\n' "$BATS_TEST_TMPDIR" \
        >"$BATS_TEST_TMPDIR/hang"
    chmod +x "$BATS_TEST_TMPDIR/hang"
    RECT_PROGRAM="$BATS_TEST_TMPDIR/hang" RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=1 RECT_RETRIES=2 \
        RECT_TIMEOUT=2 run timeout 60 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j1
    assert_failure 1
    assert_output --partial "a job failed after 2 attempts of at most 2 s"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/hang-pids")" = 2 ] || fail "not 2 attempts"
    local pid
    for pid in $(cat "$BATS_TEST_TMPDIR/hang-pids"); do
        [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" != "sleep 296 " ] ||
            fail "the stuck job (pid $pid) was left running"
    done
}

@test "cluster script: RECT_TIMEOUT must be a positive whole number" {
    RECT_TIMEOUT=0 run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6
    assert_failure 2
    assert_output --partial "RECT_TIMEOUT must be"
}

@test "cluster script: a job that always fails fails the run" {
    requires command parallel
    printf '#!/bin/sh\nexit 1\n' >"$BATS_TEST_TMPDIR/broken"
    chmod +x "$BATS_TEST_TMPDIR/broken"
    RECT_PROGRAM="$BATS_TEST_TMPDIR/broken" RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=2 RECT_RETRIES=2 \
        run timeout 60 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j2
    assert_failure 1
    assert_output --partial "a job failed after 2 attempts"
}

kill_a_worker() {
    start_in_session ch06-rectangles 5 7 --split first-column --workers 2 --yes "$@"
    wait_for_output "pool: 2 pre-forked workers"
    local worker
    for _ in $(seq 100); do
        worker=$(pgrep -P "$KIT_PID" | head -1) && [ -n "$worker" ] && break
        sleep 0.05
    done
    [ -n "$worker" ] || fail "no worker found"
    sleep 0.3
    kill_while_computing "$worker" || fail "worker $worker was never caught running a task"
    wait_kit 20
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "worker [01] \(pid [0-9]+\) killed by signal 9 \(Killed\) while running task [0-9]+ \(first column 1,[0-9,]+\)"
    assert_output --partial "the others were stopped"
    assert_session_empty "$KIT_PID"
}

@test "a worker killed mid-run is reported (worker, signal, task), exit 1, nothing left" {
    kill_a_worker
}

@test "the same with the parent dealing the tasks (--dispatch parent)" {
    kill_a_worker --dispatch parent
}

@test "SIGINT in the middle of a count: prompt exit, workers killed and reaped" {
    interrupt_mid_run INT "pool: 2 pre-forked workers" ch06-rectangles 5 7 --split first-column --workers 2 --yes
}

# One first-column task of (5,8) runs for many seconds: a stop must not wait for its end.
@test "--task: SIGTERM in the middle of a long task stops it then, not at the task's end" {
    interrupt_mid_run TERM $'task\ttasks' ch06-rectangles 5 8 --split first-column --task 1/35
    [ -z "$(grep -v '^task' "$BATS_TEST_TMPDIR/out")" ] || fail "a task row was printed: $(cat "$BATS_TEST_TMPDIR/out")"
}

@test "--task: SIGINT likewise" {
    interrupt_mid_run INT $'task\ttasks' ch06-rectangles 5 8 --split first-column --task 3/35
}

@test "--analyze: SIGTERM during the sequential run of one long task stops it, nothing left" {
    interrupt_mid_run TERM "first-column split: 35 tasks" ch06-rectangles 5 8 --analyze --yes --only split \
        --out "$BATS_TEST_TMPDIR/out-dir"
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/out-dir")" ] || fail "left: $(ls -A "$BATS_TEST_TMPDIR/out-dir")"
}

@test "a killed parent takes its workers with it (PR_SET_PDEATHSIG)" {
    start_in_session ch06-rectangles 5 7 --split first-column --workers 2 --yes
    wait_for_output "pool: 2 pre-forked workers"
    sleep 0.3
    kill -KILL "$KIT_PID"
    wait_kit 10
    assert_equal "$KIT_STATUS" 137
    assert_session_empty "$KIT_PID"
}

@test "--help prints the usage and exits 0" {
    run kit ch06-rectangles --help
    assert_success
    assert_output --partial "Usage: ch06-rectangles R N"
    assert_output --partial "results/ch06-timeline.tsv"
}

bad_input() {
    usage_error ch06-rectangles "$@"
    refute_line --regexp "^  positive +[0-9]"
}

@test "bad input: r > n, r < 2, n > 16, n < 2" {
    bad_input 5 4
    assert_line --index 0 "ch06-rectangles: R: 5 is out of range (accepted: 2 to 4)"
    bad_input 1 4
    assert_line --index 0 "ch06-rectangles: R: 1 is out of range (accepted: 2 to 4)"
    bad_input 3 17
    assert_line --index 0 "ch06-rectangles: N: 17 is out of range (accepted: 2 to 16)"
    bad_input 2 1
    assert_line --index 0 "ch06-rectangles: N: 1 is out of range (accepted: 2 to 16)"
}

@test "bad input: non-numbers and a missing N" {
    bad_input five 7
    assert_line --index 0 "ch06-rectangles: R: 'five' is not a whole number (accepted: 2 to 7)"
    bad_input 5 7x
    assert_line --index 0 "ch06-rectangles: N: '7x' is not a whole number (accepted: 2 to 16)"
    bad_input 5
    assert_line --index 0 --partial "give both R and N"
}

@test "bad input: --task 5/4, 0/4, 3, and --split, --setup, --dispatch names" {
    bad_input 4 6 --task 5/4
    assert_line --index 0 "ch06-rectangles: --task: '5/4' is out of range (K/T with 1 <= K <= T <= 1000000)"
    bad_input 4 6 --task 0/4
    assert_line --index 0 --partial "--task: '0/4' is out of range"
    bad_input 4 6 --task 3
    assert_line --index 0 --partial "--task: '3' is not K/T"
    bad_input 4 6 --split rows
    assert_line --index 0 "ch06-rectangles: --split: 'rows' is not a split (accepted: cycle-type, first-column, cycle-type-fine)"
    bad_input 3 6 --split cycle-type-fine
    assert_line --index 0 --partial "--split cycle-type-fine: R is 3, it needs R >= 4"
    bad_input 4 6 --setup never
    assert_line --index 0 --partial "--setup: 'never' is not a setup"
    bad_input 4 6 --dispatch queue
    assert_line --index 0 "ch06-rectangles: --dispatch: 'queue' is not a dispatch (accepted: shared, parent)"
    bad_input --frobnicate
    assert_line --index 0 "ch06-rectangles: unknown option '--frobnicate'"
}

@test "bad input: a size that would run for hours needs --yes; one that could overflow is refused" {
    bad_input 9 9
    assert_line --index 0 --regexp "\(9,9\) --split cycle-type-fine would run about [0-9.e+]+ hours on [0-9]+ workers .*pass --yes"
    bad_input 16 16
    assert_line --index 0 --partial "(16,16): the count could reach 2^"
}

@test "rect.py: the Python version verifies the known values" {
    requires command python3
    local size
    for size in "2 6" "4 6" "5 6"; do
        run timeout 60 python3 "$KIT_ROOT/chapters/06-rectangles/rect.py" $size
        assert_success
        assert_output --partial "positive and negative match the known values"
        assert_output --regexp "rate_per_cpu_s=[0-9.e+]+"
    done
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 06 "$QUICK"
}
