#!/usr/bin/env bats
# Chapter 7: producer-consumer with bounded queues. Behaviour, not timings.

load test_helper

setup_file() {
    # --workers 2 fixes the mpmc rows (P = C = 1 and 4 in --quick) whatever the machine
    quick_run_once ch07-prodcons --workers 2
}

VARIANTS="pipe mutex-cond semaphores mpmc-ring ring-batch"

# rows of a table as "first second" (variant x, or case and capacity)
rows_of() {
    awk -F'\t' '!/^#/ && $1 != "variant" && $1 != "case" { print $1, $2 }' "$1"
}

@test "quick run exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every item of every trial delivered exactly once"
    assert_output --partial "effective CPUs:"
    assert_output --partial "Little's law"
    refute_output --partial "verification failed"
}

@test "quick run leaves no process behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "writes the nine TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch07 throughput capacity capacity-blocked mpmc imbalance occupancy \
        latency latency-cdf littles-law
}

@test "throughput: one row per queue at capacity 1024, in Mitems/s" {
    run rows_of "$QUICK/ch07-throughput.tsv"
    assert_equal "${#lines[@]}" 5
    for v in $VARIANTS; do assert_line "$v 1024"; done
    run awk -F'\t' '!/^#/ && $1 != "variant" && $3 != "Mitems/s"' "$QUICK/ch07-throughput.tsv"
    assert_output ""
}

@test "capacity: every capacity a queue can offer, the same points in both tables" {
    run rows_of "$QUICK/ch07-capacity.tsv"
    # --quick: 1, 64 and 64K; the pipe holds at least a page (64 items), a ring at least 2 slots;
    # a 4 MiB pipe (64K items) needs pipe-max-size or CAP_SYS_RESOURCE, so it may be missing
    local pipe_max
    pipe_max=$(grep -c '^pipe 65536$' <<<"$output" || true)
    assert_equal "${#lines[@]}" $((11 + pipe_max))
    for v in mutex-cond semaphores; do assert_line "$v 1"; done
    for v in $VARIANTS; do assert_line "$v 64"; done
    for v in mutex-cond semaphores mpmc-ring ring-batch; do assert_line "$v 65536"; done
    refute_line "pipe 1"
    refute_line "mpmc-ring 1"
    assert_equal "$(rows_of "$QUICK/ch07-capacity-blocked.tsv")" "$(rows_of "$QUICK/ch07-capacity.tsv")"
    run awk -F'\t' '!/^#/ && $1 != "variant" && ($3 != "%" || $5 < 0 || $5 > 100)' "$QUICK/ch07-capacity-blocked.tsv"
    assert_output ""
}

@test "capacity: a queue's line quotes the ends of its range only when it ran at more than one capacity" {
    local v n
    for v in $VARIANTS; do
        n=$(awk -F'\t' -v v="$v" '!/^#/ && $1 == v' "$QUICK/ch07-capacity.tsv" | wc -l)
        run grep -E "^  -> $v +first within 10% of its best" "$BATS_FILE_TMPDIR/out"
        assert_success
        if [ "$n" -eq 1 ]; then
            assert_output --regexp "^  -> $v +first within 10% of its best \([0-9.]+ million/s\) at capacity [0-9]+$"
        else
            assert_output --regexp "^  -> $v +first within 10% of its best \([0-9.]+ million/s\) at capacity [0-9]+; at [0-9]+ it ran at [0-9.]+% of that, at [0-9]+ at [0-9.]+%$"
        fi
    done
}

@test "mpmc: P = C = 1 and 2 x workers for every queue" {
    run rows_of "$QUICK/ch07-mpmc.tsv"
    assert_equal "${#lines[@]}" 10
    for v in $VARIANTS; do assert_line "$v 1"; assert_line "$v 4"; done
}

@test "imbalance: the bounded queue never held more than its capacity, the unbounded one held every item it needed" {
    run awk -F'\t' '!/^#/ && $1 != "case" { print $1, $2, $3 }' "$QUICK/ch07-imbalance.tsv"
    assert_line "producer-4x-faster mutex-cond 1024"
    assert_line "consumer-4x-faster mutex-cond 1024"
    assert_line --regexp "^producer-4x-faster-unbounded mutex-cond [0-9]+$"
    run awk -F'\t' '!/^#/ && $1 != "case" && ($7 > $3 || $8 != $7 * 64) { print "bad row:", $0 }' \
        "$QUICK/ch07-imbalance.tsv"
    assert_output ""
    run awk -F'\t' '$1 == "producer-4x-faster-unbounded" && $3 != $4 { print "capacity is not the item count:", $0 }' \
        "$QUICK/ch07-imbalance.tsv"
    assert_output ""
}

@test "imbalance: the three conclusions quote each case found by name in the table" {
    local bounded unbounded mib
    bounded=$(awk -F'\t' '$1 == "producer-4x-faster" { print $7 }' "$QUICK/ch07-imbalance.tsv")
    unbounded=$(awk -F'\t' '$1 == "producer-4x-faster-unbounded" { print $7 }' "$QUICK/ch07-imbalance.tsv")
    mib=$(awk -v p="$unbounded" 'BEGIN { printf "%.1f", p * 64 / 1048576 }')
    run cat "$BATS_FILE_TMPDIR/out"
    if [ "$bounded" -ge 1024 ]; then
        assert_line --regexp "^  -> the bound at work: the 4x faster producer slept [0-9]+% of its time, and the queue never held more than $bounded items \(1024 allowed\)$"
    else
        assert_line --regexp "^  -> the bound not reached: the 4x faster producer slept [0-9]+% of its time, and the queue's median peak was $bounded items \(1024 allowed\)$"
    fi
    assert_line "  -> without a bound the same 4x faster producer filled the queue up to $unbounded items ($mib MiB)"
    assert_line --regexp "^  -> a 4x faster consumer slept [0-9]+% of its time waiting for items$"
}

@test "latency: p50 and the distribution per queue and load; Little's law computed for each" {
    run rows_of "$QUICK/ch07-latency.tsv"
    assert_equal "${#lines[@]}" 10
    for v in $VARIANTS; do assert_line "$v 50"; assert_line "$v 90"; done
    assert_equal "$(rows_of "$QUICK/ch07-littles-law.tsv")" "$(rows_of "$QUICK/ch07-latency.tsv")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "Little's law \(items in flight = arrival rate x mean latency\): the sampled time average came within 10% at [0-9]+ of 10 points"
    assert_output --regexp "the sampler, a third process on [0-9]+ CPUs, was awake for [0-9]+% to [0-9]+% of its 100-us ticks, and read [0-9]+ to [0-9]+ us after the tick on average"
    # the sampled average beside the items' own stamps, one row per point, and what the stamps say
    assert_output --partial "Little's law, mean items in flight over the same windows: rate x W"
    assert_output --regexp "rate x mean latency is the items' own time average of the number in flight \(each window starts and ends empty\); the same stamps read at every one of the sampler's 100-us ticks came within [0-9.]+% of it at every point"
    assert_output --regexp "  -> the counter (read what the stamps give at the same instants|and the stamps differ by up to)"
    run awk '/^  Little.s law, mean items/ { on = 1; next } on && /^  ->/ { exit } on && NF { print $1, $2 }' "$BATS_FILE_TMPDIR/out"
    assert_equal "${#lines[@]}" 11
    assert_line --index 0 "variant load%"
    for v in $VARIANTS; do assert_line "$v 50"; assert_line "$v 90"; done
    run awk -F'\t' '!/^#/ && $1 != "variant"' "$QUICK/ch07-latency-cdf.tsv"
    assert_equal "${#lines[@]}" 150
    # percentiles rise with the latency within each queue and load
    run awk -F'\t' '!/^#/ && $1 != "variant" { k = $1 " " $2; if (k == last && $4 < prev) print "falls:", $0; last = k; prev = $4 }' \
        "$QUICK/ch07-latency-cdf.tsv"
    assert_output ""
}

@test "littles-law: the difference is computed from the two numbers beside it, the sampler's share of ticks is a percentage, the stamps' counts are counts" {
    run grep -v '^#' "$QUICK/ch07-littles-law.tsv"
    assert_line --index 0 "$(printf 'variant\tload_pct\tarrival_per_s\tmean_latency_us\tmean_in_flight\tpredicted_in_flight\terror_pct\tticks_taken_pct\tstamps_at_readings\tstamps_at_due_ticks\tstamps_on_grid\tlate_us\tput_rate_late_pct\tget_rate_late_pct')"
    # predicted = arrival rate x mean latency; error = sampled against predicted, in %
    run awk -F'\t' '!/^#/ && $1 != "variant" {
        p = $3 * $4 / 1e6; d = p - $6; if (d < 0) d = -d
        e = 100 * ($5 - $6) / $6 - $7; if (e < 0) e = -e
        if (d > 1e-4 * p + 1e-9 || e > 0.02 || $8 < 0 || $8 > 100 || NF != 14) print "bad row:", $0
        if ($9 < 0 || $10 < 0 || $11 < 0 || $12 < 0 || $13 < 0 || $14 < 0) print "negative:", $0 }' \
        "$QUICK/ch07-littles-law.tsv"
    assert_output ""
}

@test "latency with the sampler pinned beside the producer: the same rows, every item checked" {
    run kit ch07-prodcons --quick --only latency --variant mutex-cond --pin spread --sampler-cpu 0 \
        --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --partial "verification: every item of every trial delivered exactly once"
    run rows_of "$BATS_TEST_TMPDIR/ch07-littles-law.tsv"
    assert_equal "$output" "$(printf 'mutex-cond 50\nmutex-cond 90')"
}

@test "exactly once with several producers and consumers: every queue, P = C = 4, items not a multiple of P" {
    run kit ch07-prodcons --quick --only mpmc --workers 2 --items 3001 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --partial "every item was delivered exactly once"
    run rows_of "$BATS_TEST_TMPDIR/ch07-mpmc.tsv"
    for v in $VARIANTS; do assert_line "$v 4"; done
}

@test "a dropped item is caught: exit 1, verification failed" {
    run kit ch07-prodcons --quick --only throughput --variant mutex-cond --fault drop --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "verification failed: producer 0: 999 of its 1000 items delivered"
}

@test "a duplicated item is caught in the batched ring with 4 producers and 4 consumers" {
    run kit ch07-prodcons --quick --only mpmc --variant ring-batch --workers 2 --fault duplicate --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "verification failed: producer 0: 1001 of its 1000 items delivered"
}

@test "--help prints the usage and exits 0" {
    run kit ch07-prodcons --help
    assert_success
    assert_output --partial "Usage: ch07-prodcons"
    assert_output --partial "littles-law"
}

bad_input() {
    usage_error ch07-prodcons "$@"
    refute_output --partial "throughput:"
}

@test "bad input: unknown flag and a stray argument" {
    bad_input --frobnicate
    assert_line --index 0 "ch07-prodcons: unknown option '--frobnicate'"
    bad_input 12
    assert_line --index 0 "ch07-prodcons: unknown option '12'"
}

@test "bad input: --variant accepts only queue names" {
    bad_input --variant pipe,futex
    assert_line --index 0 --partial "--variant: 'futex' is not a variant (accepted: pipe, mutex-cond,"
    bad_input --variant ""
    assert_line --index 0 "ch07-prodcons: --variant: needs one or more variant names"
}

@test "bad input: --items 0, 12x and 10^9 name the argument and the range" {
    bad_input --items 0
    assert_line --index 0 "ch07-prodcons: --items: 0 is out of range (accepted: 100 to 100000000)"
    bad_input --items 12x
    assert_line --index 0 --partial "--items: '12x' is not a whole number"
    bad_input --items 1000000000
    assert_line --index 0 --partial "--items: 1000000000 is out of range"
}

@test "bad input: --capacity must be a power of two from 2 to 1M" {
    bad_input --capacity 1000
    assert_line --index 0 "ch07-prodcons: --capacity: 1000 is not a power of two (accepted: 2, 4, 8 .. 1M)"
    bad_input --capacity 1
    assert_line --index 0 --partial "--capacity: 1 is out of range"
    bad_input --capacity 2M
    assert_line --index 0 --partial "--capacity: 2M is out of range"
}

@test "bad input: --batch, --fault, --workers, --only, --trials, a missing value" {
    bad_input --batch 0
    assert_line --index 0 "ch07-prodcons: --batch: 0 is out of range (accepted: 1 to 256)"
    bad_input --fault lose
    assert_line --index 0 "ch07-prodcons: --fault: 'lose' is not a fault (accepted: drop, duplicate)"
    bad_input --workers 9
    assert_line --index 0 "ch07-prodcons: --workers: 9 is out of range for this chapter (accepted: 1 to 8)"
    bad_input --only nosuch
    assert_line --index 0 "ch07-prodcons: --only: 'nosuch' is not an experiment (accepted: throughput, capacity, mpmc, imbalance, latency)"
    bad_input --trials 0
    assert_line --index 0 --partial "--trials: 0 is out of range"
    bad_input --capacity
    assert_line --index 0 "ch07-prodcons: --capacity needs a value"
}

@test "bad input: --sampler-cpu names a CPU of this machine" {
    last=$(( $(getconf _NPROCESSORS_ONLN) - 1 ))
    bad_input --sampler-cpu "$((last + 1))"
    assert_line --index 0 "ch07-prodcons: --sampler-cpu: $((last + 1)) is out of range (accepted: 0 to $last)"
    bad_input --sampler-cpu one
    assert_line --index 0 --partial "--sampler-cpu: 'one' is not a whole number"
    bad_input --sampler-cpu -1
    assert_line --index 0 --partial "--sampler-cpu: -1 is out of range"
}

# A long trial: --quick has no warm-up, and its first trial moves 20 million items
long_run() {
    start_in_session ch07-prodcons --quick --only throughput --variant mutex-cond --items 20000000 \
        --trials 3 --out "$BATS_TEST_TMPDIR"
}

@test "SIGINT in the middle of a run: prompt exit, producers and consumers killed, nothing named left" {
    before=$(ipc_snapshot ch07-prodcons)
    interrupt_mid_run INT "throughput: 1 producer" ch07-prodcons --quick --only throughput --variant mutex-cond \
        --items 20000000 --out "$BATS_TEST_TMPDIR"
    assert_equal "$(ipc_snapshot ch07-prodcons)" "$before"
}

@test "SIGTERM in the middle of a run: the same" {
    before=$(ipc_snapshot ch07-prodcons)
    interrupt_mid_run TERM "throughput: 1 producer" ch07-prodcons --quick --only throughput --variant ring-batch \
        --items 100000000 --out "$BATS_TEST_TMPDIR"
    assert_equal "$(ipc_snapshot ch07-prodcons)" "$before"
}

# first_named NAME: the pid of the first process called NAME (ch07-producer, ch07-consumer) in the session
first_named() {
    local found= i=0
    while [ -z "$found" ] && [ $((i++)) -lt 400 ]; do
        found=$(pgrep -s "$KIT_PID" -x "$1" | head -1 || true)
        [ -n "$found" ] || sleep 0.05
    done
    [ -n "$found" ] || fail "no $1 seen"
    echo "$found"
}

@test "a consumer killed mid-run: reported, the blocked producer stopped, exit 1, nothing left" {
    before=$(ipc_snapshot ch07-prodcons)
    long_run
    wait_for_output "throughput: 1 producer"
    victim=$(first_named ch07-consumer)
    kill -KILL "$victim"
    wait_kit 20
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "consumer 0 \(pid $victim\) killed by signal 9 \(Killed\) during throughput, variant mutex-cond, P=1 C=1, capacity 1024, trial 1; the others were stopped"
    assert_session_empty "$KIT_PID"
    assert_equal "$(ipc_snapshot ch07-prodcons)" "$before"
}

@test "a producer killed mid-run: reported, the waiting consumer stopped, exit 1, nothing left" {
    long_run
    wait_for_output "throughput: 1 producer"
    victim=$(first_named ch07-producer)
    kill -KILL "$victim"
    wait_kit 20
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "producer 0 \(pid $victim\) killed by signal 9 \(Killed\) during throughput"
    assert_session_empty "$KIT_PID"
}

@test "a killed parent takes its producers and consumers with it" {
    long_run
    wait_for_output "throughput: 1 producer"
    first_named ch07-consumer >/dev/null
    kill -KILL "$KIT_PID"
    wait_kit 10
    assert_equal "$KIT_STATUS" 137
    assert_session_empty "$KIT_PID"
}

@test "the Python twin checks its items and writes the same TSV schema" {
    requires command python3
    run timeout 120 python3 "$KIT_ROOT/chapters/07-prodcons/prodcons.py" --quick --only throughput \
        --items 200 --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --partial "verification: every item of every trial delivered exactly once"
    assert_tsv "$BATS_TEST_TMPDIR/ch07-python-throughput.tsv"
    run rows_of "$BATS_TEST_TMPDIR/ch07-python-throughput.tsv"
    assert_output "$(printf 'Queue 100\nQueue 1024\nJoinableQueue 1024\nPipe 0\nSimpleQueue 0')"
}

@test "the Python twin refuses --trials 0 (exit 2, before any work)" {
    requires command python3
    run timeout 120 python3 "$KIT_ROOT/chapters/07-prodcons/prodcons.py" --trials 0 \
        --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--trials: 0 is out of range (accepted: 1 to 1000)"
    [ ! -e "$BATS_TEST_TMPDIR/none" ] || fail "a rejected run created its --out directory"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 07 "$QUICK"
}
