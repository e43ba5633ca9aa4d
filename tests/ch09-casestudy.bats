#!/usr/bin/env bats
# Chapter 9: naive vs optimized, end to end, rung by rung. Behaviour, not timings.

load test_helper

setup_file() {
    quick_run_once ch09-casestudy --workers 2
}

# The shared-memory objects and temporary files this chapter could leave, of any run.
leftovers() { ipc_snapshot ch09-casestudy-; }

@test "quick run exits 0, checks every rung against rung 0 and says whether the accounting closed" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "every trial's [0-9]+ block sums checked bit for bit against rung 0"
    assert_output --regexp "  result: [0-9.]+ \(every rung: exactly this\)"
    assert_output --partial "effective CPUs:"
    refute_output --partial "verification failed"
    run grep -cE '^  -> accounting (closes|does NOT close everywhere)' "$BATS_FILE_TMPDIR/out"
    assert_output 3        # ladder, intensity, amdahl
}

@test "quick run leaves no process and no shared memory behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
    run ls /dev/shm
    refute_output --partial "ch09-casestudy-$(cat "$BATS_FILE_TMPDIR/sid")-"
}

@test "writes the ten TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch09 ladder ladder-phases ladder-touch ladder-steps intensity intensity-phases amdahl amdahl-phases size arithmetic
}

@test "ladder: the six rungs, rung 5 mapped, unpinned and with the fill at the default size, then rungs 0, 2 and 5+fill at a small input" {
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 "/" $3 }' "$QUICK/ch09-ladder.tsv"
    assert_output "$(printf '%s\n' sequential/500000/ms fork-per-chunk-pipe/500000/ms pool-pipe/500000/ms \
        pool-chunked/500000/ms pool-shm/500000/ms pool-shm-batched/500000/ms \
        pool-shm-batched-mapped/500000/ms pool-shm-batched-unpinned/500000/ms pool-shm-batched+fill/500000/ms \
        sequential/16000/ms pool-pipe/16000/ms pool-shm-batched+fill/16000/ms)"
}

@test "ladder: the first-touch probe is recorded for each way of reaching the values, and the goal is reported from pairs in alternation and for both timings" {
    local kind
    run awk -F'\t' '!/^#/ { print $1 "/" $2 "/" NF }' "$QUICK/ch09-ladder-touch.tsv"
    assert_output "$(printf '%s\n' way/pages/11 read-write/488/11 read-only/488/11 read-only-populated/488/11 pread/488/11)"
    run awk -F'\t' '!/^#/ && $1 != "way" { for (i = 3; i <= 11; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) print $1 " column " i " = " $i }' "$QUICK/ch09-ladder-touch.tsv"
    assert_output ""
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "  -> goal: pool-shm-batched >= 0\.8 x [0-9.]+ effective CPUs = [0-9.]+x rung 0's throughput: (met|NOT met) in 3 pairs of trials run in alternation \(median [0-9.]+x, [0-9.]+-[0-9.]+\); the ladder's medians, one rung after the other: [0-9.]+x \([0-9.]+ against [0-9.]+ ms\); (met|NOT met) when the run must first copy the values into shared memory \([0-9.]+x in the ladder\)"
    # the pairs' ratios are kept in the ladder's TSV, median within min..max
    run awk '/^# pairs=/ { split($0, f, /[ =]/); print f[3], (f[7] <= f[5] && f[5] <= f[9]) }' "$QUICK/ch09-ladder.tsv"
    assert_output "3 1"
    # what two CPUs give the arithmetic itself, beside the goal: the TSV keeps it, the line
    # prints it and the goal's share of it, which must be the goal divided by it
    run awk '/^# arithmetic_parallelism=/ { split($0, f, /[ =]/); print f[5], (f[3] > 0) }' "$QUICK/ch09-ladder.tsv"
    assert_output "64 1"
    run sed -n 's/^     the arithmetic alone, the same 64 blocks in 2 processes at once against 1 (each from a private copy, 16 passes; median of 3 rounds): \([0-9.]*\)x; the goal asks pool-shm-batched for \([0-9.]*\)x, \([0-9.]*\) of it$/\1 \2 \3/p' "$BATS_FILE_TMPDIR/out"
    [ -n "$output" ] || fail "no line for the arithmetic alone in $(cat "$BATS_FILE_TMPDIR/out")"
    run awk -v line="$output" 'BEGIN { split(line, v, " "); d = v[2] / v[1] - v[3]; print (d < 0.011 && d > -0.011) }'
    assert_output 1
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "     the goal allows [0-9.]+ ms; where the median trial's [0-9.]+ ms went: start [0-9.]+, distribute [0-9.]+, collect [0-9.]+, teardown [0-9.]+ ms; compute \(waiting for the workers\) [0-9.]+ ms"
    assert_line --regexp "; each worker's reads \([0-9]+ pages with pread at -?[0-9.]+ us, inside the arithmetic\) (about [0-9.]+ ms of it|not measurable, within the probe's spread)$"
    # a probe's difference is a cost only when it stands out of the trials' spread
    assert_output --regexp "     the median trial is [0-9.]+ ms (over what the goal allows: -?[0-9.]+ ms outside compute, and -?[0-9.]+ ms of waiting beyond the work split 2 ways \(per worker: reads ([0-9.]+ ms|not measurable), checksums ([0-9.]+ ms|not measurable)\)|inside what the goal allows)"
    assert_output --partial "  -> a new process reading the shared values, one byte per 4 KiB page (488 pages; CPU time, us per page; median of the probes):"
    for kind in read-write read-only read-only-populated pread; do
        assert_output --regexp "     $kind +first read +[0-9.]+, second +[0-9.]+, munmap +[0-9.]+ \([0-9]+ page faults in the first read"
    done
    for kind in read-write read-only; do
        run grep -A1 -E "^     $kind +first read" "$BATS_FILE_TMPDIR/out"
        assert_line --index 1 --regexp "^ +summing every value through a fresh mapping: first pass [0-9.]+ ms, second [0-9.]+ ms: ([0-9.]+ more per page|not measurable \(-?[0-9.]+ per page, within the passes' spread\))$"
    done
    run grep -A1 -E "^     pread +first read" "$BATS_FILE_TMPDIR/out"
    assert_line --index 1 --regexp "^ +summing every value read this way: first pass [0-9.]+ ms, second [0-9.]+ ms; against the arithmetic alone: ([0-9.]+ more per page|not measurable \(-?[0-9.]+ per page, within the passes' spread\)); checksumming every block in the same pass: ([0-9.]+ ms more|not measurable \(-?[0-9.]+ ms, within the passes' spread\)) \(in a pass of its own: ([0-9.]+ ms more|not measurable \(-?[0-9.]+ ms, within the passes' spread\))\)$"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "     pread cost [0-9.]+ us per page on the first pass and [0-9.]+ on the second, [0-9.]+x a first read through a read-only mapping; inside the arithmetic -?[0-9.]+ against -?[0-9.]+"
    assert_output --regexp "     read-only first reads cost [0-9.]+x the read-write ones \(([0-9.]+x inside the arithmetic|inside the arithmetic: not measurable)\); populating first, then reading: [0-9.]+ us per page in all against [0-9.]+, (cheaper|dearer|about the same)"
    # a share of the extra CPU only when there is extra CPU and the probe's difference stands out
    local used
    for used in "pool-shm's workers \(read-write\)" "pool-shm-batched-mapped's workers \(read-only\)" \
        "pool-shm-batched's workers \(pread\)"; do
        assert_line --regexp "^     $used used [0-9.]+ ms of CPU for what one process did in [0-9.]+ ms: ([0-9.]+ ms more|no more than one process \(-?[0-9.]+ ms\)); reading its pages inside the arithmetic, as the probe measured it: (about [0-9.]+ ms( \([0-9]+% of the extra(; more than all of it: the probe and the rung are separate runs, so the two numbers need not add up)?\))?|not measurable \(-?[0-9.]+ ms, within the passes' spread\))$"
    done
    refute_output --regexp "nan%|-[0-9.]+% of the extra|-[0-9.]+ (ms )?more"
    local choice
    for choice in "pread instead of a read-only mapping: pool-shm-batched [0-9.]+ ms against pool-shm-batched-mapped" \
        "pinned instead of placed by the scheduler: pool-shm-batched [0-9.]+ ms against pool-shm-batched-unpinned"; do
        assert_output --regexp "  -> $choice [0-9.]+ ms \((it paid|it did not pay|within the trials' spread)\), workers' CPU [0-9.]+ against [0-9.]+ ms, start [0-9.]+ against [0-9.]+, distribute [0-9.]+ against [0-9.]+, teardown [0-9.]+ against [0-9.]+"
    done
    assert_output --regexp "  -> getting the values into shared memory \(create, populate, copy 2 MB\): [0-9.]+ ms and [0-9]+ page faults in the parent"
}

@test "ladder: start and teardown step by step for the shared-memory rungs, stamps in causal order" {
    local rung
    # every step but "running" runs from one stamp to a later one that it causes or follows
    run awk -F'\t' '!/^#/ { if ($1 == "rung") print $0; else { print $1 "/" $2 "/" NF
            for (i = 3; i <= 11; i++) if ($i !~ /^-?[0-9]+(\.[0-9]+)?$/ || (i != 6 && $i < 0)) print $1 " column " i " = " $i } }' "$QUICK/ch09-ladder-steps.tsv"
    local header=$'rung\tworkers\tstart_ms\tteardown_ms\tfork_ms\trunning_ms\tmapped_ms\tready_ms\tsaw_end_ms\tunmapped_ms\treaped_ms'
    assert_output "$(printf '%s\n' "$header" pool-shm/2/11 pool-shm-batched-mapped/2/11 pool-shm-batched-unpinned/2/11 pool-shm-batched/2/11)"
    run grep -A5 -F "  -> start and teardown step by step" "$BATS_FILE_TMPDIR/out"
    assert_line --index 1 --regexp "^ +rung +start +fork +running +mapped +ready \| teardown +saw end +unmapped +reaped$"
    for rung in pool-shm pool-shm-batched-mapped pool-shm-batched-unpinned pool-shm-batched; do
        assert_output --regexp "     $rung +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +[0-9.]+ +[0-9.]+ \| +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+"
    done
    run grep -E "^# fork=(left|trimmed) rss_anon_kb=[0-9]+ fork_cpu_ms=[0-9.]+ reaped_ms=[0-9.]+$" "$QUICK/ch09-ladder.tsv"
    assert_equal "${#lines[@]}" 2
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --regexp "  -> forking the parent with the heap the pipe rungs left \([0-9]+ kB of private memory in use\): [0-9.]+ ms of its CPU inside fork\(\), the child reaped after [0-9.]+ ms; trimmed \([0-9]+ kB\): [0-9.]+ and [0-9.]+ ms: (every rung starts from a trimmed heap|trimming saved nothing in this run)"
}

@test "phase tables: CPU time and page faults of parent and workers; the one process has no workers" {
    local f
    for f in "$QUICK"/ch09-*-phases.tsv; do
        run awk -F'\t' '
            $1 == "rung" { if ($13 != "parent_cpu_ms" || $14 != "worker_cpu_ms" || $15 != "parent_faults" || $16 != "worker_faults" || NF != 16) { print FILENAME ": header " $0; bad++ } }
            !/^#/ && $1 != "rung" {
                for (i = 13; i <= 16; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) { print FILENAME ": " $1 " column " i " = " $i; bad++ }
                if ($1 == "sequential" && ($14 != 0 || $16 != 0)) { print FILENAME ": sequential has worker usage"; bad++ }
            }
            END { exit bad }' "$f"
        assert_success
    done
}

@test "every phase row adds up: sum = the five phases, unaccounted = wall - sum, never below zero" {
    local f
    for f in "$QUICK"/ch09-*-phases.tsv; do
        run awk -F'\t' '
            !/^#/ && $1 != "rung" {
                rows++
                sum = $5 + $6 + $7 + $8 + $9
                if (sum - $10 > 0.001 || $10 - sum > 0.001) { print FILENAME ": " $1 " sum " $10 " != " sum; bad++ }
                # the TSV rounds milliseconds to 4 places: for a 0.1 ms wall that moves the share by 0.1%
                pct = 100 * ($11 - $10) / $11
                tol = 0.01 + 100 * 0.0002 / $11
                if (pct - $12 > tol || $12 - pct > tol) { print FILENAME ": " $1 " unaccounted " $12 " != " pct; bad++ }
                if ($12 < -0.01) { print FILENAME ": " $1 " phases exceed the wall time"; bad++ }
            }
            END { if (!rows) print "no rows"; exit bad || !rows }' "$f"
        assert_success
    done
    run awk -F'\t' '!/^#/ && $1 != "rung" { print $1 }' "$QUICK/ch09-amdahl-phases.tsv"
    assert_output "$(printf '%s\n' sequential pool-shm-batched pool-shm-batched pool-shm-batched pool-shm-batched)"
}

@test "intensity, amdahl and size: the points the chapter promises" {
    run awk -F'\t' '$1 == "ratio" { print $2 }' "$QUICK/ch09-intensity.tsv"
    assert_output "$(printf '%s\n' 0.0625 0.25 1 4 16 64 256)"
    run grep -E '^# crossover_units=[-0-9.naei+]+ predicted_units=[0-9.e+-]+$' "$QUICK/ch09-intensity.tsv"
    assert_success
    run awk -F'\t' '$1 == "measured" { print $2 }' "$QUICK/ch09-amdahl.tsv"
    assert_output "$(seq 1 4)"
    run grep -E '^# serial_fraction=[0-9.]+ serial_ms=[0-9.]+ sequential_ms=[0-9.]+$' "$QUICK/ch09-amdahl.tsv"
    assert_success
    run awk -F'\t' '$1 == "pool-shm-batched" { print $2 }' "$QUICK/ch09-size.tsv"
    assert_output "$(printf '%s\n' 10000 100000 500000)"
    # beyond the CPUs the sentence names what accounts for the speedup only when a row predicts it
    run cat "$BATS_FILE_TMPDIR/out"
    assert_line --regexp "^  -> at W = 4: measured [0-9.]+x; Amdahl alone would give [0-9.]+x: (above it: the serial part read from the breakdown was not the limit here|the serial part is the limit here|the CPU count \([0-9.]+ effective\) accounts for it: Amdahl with W capped there predicts [0-9.]+x|between Amdahl with W capped at the [0-9.]+ effective CPUs \([0-9.]+x\) and without: neither prediction accounts for it|below even Amdahl with W capped at the [0-9.]+ effective CPUs \([0-9.]+x\): neither the serial part nor the CPU count accounts for the rest \(not measured here\))$"
    assert_line --regexp "^  -> (the optimized rung first beats one process at [0-9]+ values \([0-9]+ against [0-9]+ ns per value\)(; at [0-9]+ it lost \([0-9]+ against [0-9]+\))?|one process was faster than pool-shm-batched at every size measured \(up to 500000 values; [0-9.]+ effective CPUs\); the size run does not split fixed from per-value costs \(the ladder's phases do\))$"
}

@test "arithmetic: one value at a time, then every vector width of glibc's libmvec this CPU has" {
    local expected=sincosf-one-at-a-time
    if [ "$(uname -m)" = x86_64 ]; then
        expected+=$'\n'libmvec-4-sse
        grep -qw avx2 /proc/cpuinfo && expected+=$'\n'libmvec-8-avx2
        grep -qw avx512f /proc/cpuinfo && expected+=$'\n'libmvec-16-avx512
    fi
    run awk -F'\t' '!/^#/ && $1 != "variant" && $2 == 500000 && $3 == "ns/value" { print $1 }' "$QUICK/ch09-arithmetic.tsv"
    assert_output "$expected"
    run cat "$BATS_FILE_TMPDIR/out"
    # with no vector way run, the line says so rather than that none was faster
    if [ "$expected" = sincosf-one-at-a-time ]; then
        assert_output --regexp "  -> no vector way ran on this machine; one value at a time: [0-9.]+ ns per value"
        return
    fi
    assert_output --regexp "  -> (sin and cos through libmvec-[0-9]+-[a-z0-9]+: [0-9.]+ ns per value against [0-9.]+ one at a time, [0-9.]+x \(one process; every block within 1e-05 of rung 0's sum\)|no vector way was faster)"
}

@test "arithmetic: a bit flipped in one value the vector passes read is caught against rung 0's block sums" {
    [ "$(uname -m)" = x86_64 ] || skip "libmvec is called through the x86-64 vector ABI"
    run kit ch09-casestudy --quick --only arithmetic --elements 100K --inject corrupt --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: arithmetic: libmvec-4-sse: block 12 summed to [0-9.e+]+; rung 0 got [0-9.]+"
    [ ! -e "$BATS_TEST_TMPDIR/ch09-arithmetic.tsv" ] || fail "a TSV was written for a failed run"
}

# The total a ladder run printed, from its "result:" line in $output.
result_of_run() {
    sed -n 's/^  result: \([0-9.]*\) (every rung: exactly this)$/\1/p' <<<"$output"
}

@test "the result is bit for bit the same with 1, 2 and 3 workers and a ragged last block" {
    local w results=()
    for w in 1 2 3; do
        run kit ch09-casestudy --only ladder --elements 100001 --trials 1 --workers "$w" --chunk 3 --batch 2 --out "$BATS_TEST_TMPDIR/w$w"
        assert_success
        results+=("$(result_of_run)")
    done
    [ -n "${results[0]}" ] || fail "no result line"
    assert_equal "${results[1]}" "${results[0]}"
    assert_equal "${results[2]}" "${results[0]}"
}

@test "--lanes 4: every rung agrees bit for bit with 1 and 2 workers, within 1e-6 of one value at a time, and its checks still catch" {
    [ "$(uname -m)" = x86_64 ] || skip "libmvec is called through the x86-64 vector ABI only"
    local w lanes results=()
    for w in 1 2; do
        run kit ch09-casestudy --only ladder --lanes 4 --elements 100001 --trials 1 --workers "$w" --chunk 3 --batch 2 --out "$BATS_TEST_TMPDIR/w$w"
        assert_success
        assert_output --partial "  in every rung, sin and cos 4 values at a time through glibc's vector versions (--lanes 4)"
        results+=("$(result_of_run)")
    done
    [ -n "${results[0]}" ] || fail "no result line"
    assert_equal "${results[1]}" "${results[0]}"
    run grep -c '^# lanes=4$' "$BATS_TEST_TMPDIR/w1/ch09-ladder.tsv"
    assert_output 1
    run kit ch09-casestudy --only ladder --elements 100001 --trials 1 --workers 1 --chunk 3 --batch 2 --out "$BATS_TEST_TMPDIR/one"
    assert_success
    lanes=${results[0]}
    results+=("$(result_of_run)")
    awk -v a="$lanes" -v b="${results[2]}" 'BEGIN { d = (a - b) / b; exit !(a != b && d < 1e-6 && d > -1e-6) }' ||
        fail "--lanes 4 gave $lanes, one value at a time ${results[2]}: not close, or not a different computation"
    run kit ch09-casestudy --only ladder --lanes 4 --quick --trials 1 --elements 100K --inject partial --out "$BATS_TEST_TMPDIR/bad"
    assert_failure 1
    assert_output --regexp "verification failed: fork-per-chunk-pipe: block [0-9]+ summed to"
}

@test "a value corrupted on its way through a pipe is caught where it is received" {
    local before
    before=$(leftovers)
    run kit ch09-casestudy --quick --only ladder --trials 1 --elements 100K --inject corrupt --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: fork-per-chunk-pipe: worker [0-9]+ received block [0-9]+ with checksum [0-9a-f]{16}; the parent sent [0-9a-f]{16}"
    assert_equal "$(leftovers)" "$before"
}

@test "a value corrupted in shared memory is caught by the worker that reads it, and the object removed" {
    local before
    before=$(leftovers)
    run kit ch09-casestudy --quick --only amdahl --trials 1 --elements 100K --inject corrupt --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: pool-shm-batched: worker [0-9]+ received block [0-9]+ with checksum"
    assert_equal "$(leftovers)" "$before"
}

@test "a partial sum one unit in the last place off is caught against rung 0 (pipes and shared memory)" {
    run kit ch09-casestudy --quick --only ladder --trials 1 --elements 100K --inject partial --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: fork-per-chunk-pipe: block [0-9]+ summed to 0x[0-9a-fp.+]+ \([0-9.]+\); rung 0 got"
    run kit ch09-casestudy --quick --only amdahl --trials 1 --elements 100K --inject partial --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: pool-shm-batched: block [0-9]+ summed to"
}

@test "--only writes that experiment alone" {
    run kit ch09-casestudy --quick --only size --trials 1 --out "$BATS_TEST_TMPDIR/only"
    assert_success
    run ls "$BATS_TEST_TMPDIR/only"
    assert_output "ch09-size.tsv"
}

@test "--help prints the usage and exits 0" {
    run kit ch09-casestudy --help
    assert_success
    assert_output --partial "Usage: ch09-casestudy"
    assert_output --partial "--elements N"
    assert_output --partial "--inject corrupt"
}

bad_input() {
    usage_error ch09-casestudy "$@"
}

@test "bad input: unknown flag, missing value, --only and --inject names" {
    bad_input --frobnicate
    assert_line --index 0 "ch09-casestudy: unknown option '--frobnicate'"
    bad_input --elements
    assert_line --index 0 "ch09-casestudy: --elements needs a value"
    bad_input --only nosuch
    assert_line --index 0 "ch09-casestudy: --only: 'nosuch' is not an experiment (accepted: ladder, intensity, amdahl, size, arithmetic)"
    bad_input --inject typo
    assert_line --index 0 "ch09-casestudy: --inject: 'typo' is not a fault (accepted: corrupt, partial)"
}

@test "bad input: --elements must be a count from 1K to 1G, and fit in memory" {
    bad_input --elements 12Q
    assert_line --index 0 --partial "--elements: '12Q' is not a count"
    bad_input --elements 999
    assert_line --index 0 "ch09-casestudy: --elements: 999 is out of range (accepted: 1K to 1G)"
    bad_input --elements 2G
    assert_line --index 0 "ch09-casestudy: --elements: 2G is out of range (accepted: 1K to 1G)"
    bad_input --elements -5
    assert_line --index 0 --partial "--elements: '-5' is not a count"
}

@test "bad input: --elements more than the available memory holds" {
    local mem_k
    mem_k=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    [ "$mem_k" -lt 11000000 ] || skip "more than 11 GB available: 1G values fit"
    bad_input --elements 1G
    assert_line --index 0 --regexp "^ch09-casestudy: --elements: 1000000000 values need about [0-9.]+G of memory; [0-9.]+[KMG] is available$"
}

@test "bad input: --units, --chunk, --batch, --workers, --trials out of range" {
    bad_input --units 0
    assert_line --index 0 "ch09-casestudy: --units: 0 is out of range (accepted: 1 to 256)"
    bad_input --units 257
    assert_line --index 0 "ch09-casestudy: --units: 257 is out of range (accepted: 1 to 256)"
    bad_input --chunk 0
    assert_line --index 0 "ch09-casestudy: --chunk: 0 is out of range (accepted: 1 to 65536)"
    bad_input --batch x
    assert_line --index 0 "ch09-casestudy: --batch: 'x' is not a whole number (accepted: 1 to 65536)"
    bad_input --workers 0
    assert_line --index 0 "ch09-casestudy: --workers: 0 is out of range (accepted: 1 to 1024)"
    bad_input --trials abc
    assert_line --index 0 "ch09-casestudy: --trials: 'abc' is not a whole number (accepted: 1 to 100000)"
}

@test "bad input: --lanes must be a vector width the CPU runs, and only with --only ladder" {
    bad_input --lanes 3
    assert_line --index 0 "ch09-casestudy: --lanes: 3 is not a vector width (accepted: 1, 4, 8, 16)"
    bad_input --lanes 32
    assert_line --index 0 "ch09-casestudy: --lanes: 32 is out of range (accepted: 1 to 16)"
    bad_input --lanes 4
    assert_line --index 0 "ch09-casestudy: --lanes 4: vector sin and cos are for the ladder; add --only ladder"
    bad_input --lanes 4 --only size
    assert_line --index 0 "ch09-casestudy: --lanes 4: vector sin and cos are for the ladder; add --only ladder"
    if ! grep -qw avx512f /proc/cpuinfo; then
        bad_input --only ladder --lanes 16
        assert_line --index 0 --regexp "^ch09-casestudy: --lanes: this CPU does not run sin and cos 16 values at a time \(widths it runs: 1, 4"
    fi
}

@test "SIGINT in the ladder: exit 130, workers reaped, shared memory removed" {
    interrupt_mid_run INT "ladder: rung 1 of 5" ch09-casestudy --only ladder --elements 8M --trials 3 --out "$BATS_TEST_TMPDIR"
    run ls /dev/shm
    refute_output --partial "ch09-casestudy-$KIT_PID-"
}

@test "SIGTERM among the shared-memory rungs: exit 143, workers reaped, shared memory removed" {
    interrupt_mid_run TERM "amdahl: W = 1" ch09-casestudy --only amdahl --elements 8M --trials 3 --out "$BATS_TEST_TMPDIR"
    run ls /dev/shm
    refute_output --partial "ch09-casestudy-$KIT_PID-"
}

# Kill every worker seen until the program ends. The runs are made long (--units) so that a
# worker lives for about a second: a test shell starved by a loaded machine between listing the
# children and killing them still finds them alive, and the program cannot finish first.
kill_workers_until_it_ends() {
    local pid end=$((SECONDS + 180))
    while ((SECONDS < end)); do
        kill -0 "$KIT_PID" 2>/dev/null || break
        for pid in $(forked_children_of "$KIT_PID"); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        sleep 0.02
    done
}

@test "a killed worker is reported (which worker, which signal, what it did), exit 1, nothing left" {
    start_in_session ch09-casestudy --only ladder --elements 4M --units 32 --trials 3 --out "$BATS_TEST_TMPDIR"
    wait_for_output "ladder: rung 1 of 5" 180
    kill_workers_until_it_ends
    wait_kit 10
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch09-casestudy: worker [0-9]+ \(pid [0-9]+\) killed by signal 9 \(Killed\) (while working on blocks [0-9]+\.\.[0-9]+ of|in|after its last task in) [a-z-]+; the others were stopped"
    assert_session_empty "$KIT_PID"
    run ls /dev/shm
    refute_output --partial "ch09-casestudy-$KIT_PID-"
}

@test "a killed shared-memory worker: exit 1, the object removed" {
    start_in_session ch09-casestudy --only amdahl --elements 4M --units 32 --trials 3 --out "$BATS_TEST_TMPDIR"
    wait_for_output "amdahl: W = 1" 180
    kill_workers_until_it_ends
    wait_kit 10
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch09-casestudy: worker [0-9]+ \(pid [0-9]+\) killed by signal 9 \(Killed\)"
    assert_session_empty "$KIT_PID"
    run ls /dev/shm
    refute_output --partial "ch09-casestudy-$KIT_PID-"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 09 "$QUICK"
}

@test "Figures 9.1 and 9.4: titles from rows found by name and size, whatever their order (made-up tables)" {
    requires gnuplot
    local dir="$BATS_TEST_TMPDIR/data"
    mkdir -p "$dir"
    title() {   # title NAME PREFIX: the title of plots/NAME.gp drawn from $dir
        "$KIT_ROOT/harness/plot.sh" --svg-only --data "$dir" --out "$dir/out" "$KIT_ROOT/plots/$1.gp" >/dev/null 2>&1
        grep -oE "<text>$2[^<]+</text>" "$dir/out/$1.svg" | sed 's/<[^>]*>//g'
    }
    header() {  # header EXPERIMENT X_NAME
        printf '# chapter=09 program=casestudy experiment=%s mode=quick\n# host=t cpus=2\n' "$1"
        printf '# effective_cpus=1.50\n'
        [ "$1" = ladder-phases ] && printf 'rung\telements\tunits\tworkers\tstart_ms\tdistribute_ms\tcompute_ms\tcollect_ms\tteardown_ms\tsum_ms\twall_ms\tunaccounted_pct\tparent_cpu_ms\tworker_cpu_ms\tparent_faults\tworker_faults\n' \
            || printf 'variant\t%s\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\n' "$2"
    }
    phase() { printf '%s\t%s\t1\t2\t0\t0\t%s\t0\t0\t%s\t%s\t0\t1\t1\t0\t0\n' "$1" "$2" "$3" "$3" "$3"; }
    # the ladder: its main size is the largest, even when the small-input rows come first;
    # both ratios are a rung's time over the optimized rung's
    { header ladder-phases; phase sequential 16000 1; phase pool-shm-batched 16000 9
      phase sequential 1000000 100; phase fork-per-chunk-pipe 1000000 300
      phase pool-shm-batched 1000000 80; } >"$dir/ch09-ladder-phases.tsv"
    run title ch09-ladder "Naive"
    assert_output "Naive / optimized = 3.75x, one process / optimized = 1.25x: where each rung's time goes"
    # the size sweep: the smallest size at which rung 5 won, whatever the row order
    row() { printf '%s\t%s\tns/value\t3\t%s\t1\t1\t1\t0\n' "$@"; }
    { header size elements; row sequential 1000000 10; row pool-shm-batched 1000000 5
      row sequential 100000 10; row pool-shm-batched 100000 8
      row sequential 10000 10; row pool-shm-batched 10000 50; } >"$dir/ch09-size.tsv"
    run title ch09-size "(The|One)"
    assert_output "The optimized rung first beats one process at 100000 values"
    { header size elements; row sequential 100000 10; row pool-shm-batched 100000 11
      row sequential 10000 10; row pool-shm-batched 10000 50; } >"$dir/ch09-size.tsv"
    run title ch09-size "(The|One)"
    assert_output "One process beat the optimized rung at every size (1.50 effective CPUs)"
}

# A python3 that has NumPy: the one on PATH, or Debian's.
python_with_numpy() {
    local p
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { echo "$p"; return; }
    done
}

@test "the Python twin: the tutorial's shape fails to pickle; the corrected versions verify" {
    local py
    py=$(python_with_numpy)
    [ -n "$py" ] || skip "no python3 with NumPy (sudo apt-get install python3-numpy)"
    run timeout 120 "$py" "$KIT_ROOT/chapters/09-casestudy/casestudy.py" --quick --elements 100000 --workers 2 --out "$BATS_TEST_TMPDIR/py"
    assert_success
    assert_output --regexp "naive-as-printed +failed after +[0-9.]+ ms: AttributeError: Can't pickle local object '[^']*naive_worker'"
    assert_output --regexp "optimized-as-printed +failed after +[0-9.]+ ms: AttributeError: Can't pickle local object"
    assert_output --regexp "naive-fixed +[0-9.]+ ms \(median\)"
    assert_output --regexp "optimized-fixed +[0-9.]+ ms \(median\)"
    assert_line --regexp "^Pool\(2\) start, taken apart \(1 trial\(s\), medians\): Pool\(2\) returned after [0-9.]+ ms; apart, 2 processes started as Pool starts them: [0-9.]+ ms \(this process's CPU time meanwhile [0-9.]+ ms, its minor page faults [0-9]+\); then the [1-9][0-9]* threads Pool\(2\) adds: [0-9.]+ ms right after the processes, [0-9.]+ ms with no process starting$"
    assert_tsv "$BATS_TEST_TMPDIR/py/ch09-python-ladder.tsv" "$BATS_TEST_TMPDIR/py/ch09-python-phases.tsv" "$BATS_TEST_TMPDIR/py/ch09-python-start.tsv"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1, $2, $3 }' "$BATS_TEST_TMPDIR/py/ch09-python-start.tsv"
    assert_output "$(printf '%s 2 ms\n' pool-start processes-start processes-start-cpu threads-after-processes threads-alone)"
}

@test "peers.sh 9: four C rungs beside Python's versions, the goal line, NumPy with its vector code turned off, C with glibc's" {
    [ -n "$(python_with_numpy)" ] || skip "no python3 with NumPy (sudo apt-get install python3-numpy)"
    local out="$BATS_TEST_TMPDIR/peers"
    local lanes=1
    [ "$(uname -m)" = x86_64 ] && lanes=4       # C's rungs through libmvec, as NumPy computes
    CH09_ELEMENTS=20000 CH09_LANES=$lanes run timeout 300 "$KIT_ROOT/harness/peers.sh" --out "$out" 9
    assert_success
    [ "$lanes" = 1 ] || assert_output --partial "  C's rungs take sin and cos 4 values at a time (CH09_LANES=4: ch09-casestudy --lanes 4)"
    assert_output --regexp "  goal: the C optimized rung faster than Python's optimized version: (met|NOT met) as the tutorial times it \([0-9.]+ against [0-9.]+ ms\), (met|NOT met) with the fill"
    # NumPy as dispatched, then (where the CPU has it) without AVX-512, then its SSE3 baseline
    assert_output --regexp "  NumPy arithmetic alone, ns per value: [0-9.]+ as dispatched \([A-Z0-9_ ]*\)(, [0-9.]+ without AVX-512)?, [0-9.]+ with only the SSE3 baseline"
    assert_output --regexp "  C arithmetic alone, ns per value: [0-9.]+ sincosf-one-at-a-time(, [0-9.]+ libmvec-[0-9]+-[a-z0-9]+)*"
    assert_output --regexp "  python: Pool\([0-9]+\) start, taken apart \(3 trial\(s\), medians\): Pool\([0-9]+\) returned after [0-9.]+ ms; apart"
    run awk -F'\t' '!/^#/ && $1 == 9 { print $2 }' "$out/peers.tsv"
    assert_output "$(printf 'case study, %s, ms\n' "sequential vs numpy-sequential" "fork-per-chunk-pipe vs naive-fixed" "pool-shm-batched vs optimized-as-timed" "pool-shm-batched+fill vs optimized-fixed")"
}

@test "the Python twin without NumPy: skipped with the install command, exit 0" {
    requires command python3
    mkdir -p "$BATS_TEST_TMPDIR/nonumpy"
    echo 'raise ImportError("NumPy hidden for this test")' >"$BATS_TEST_TMPDIR/nonumpy/numpy.py"
    run env PYTHONPATH="$BATS_TEST_TMPDIR/nonumpy" python3 "$KIT_ROOT/chapters/09-casestudy/casestudy.py" --quick
    assert_success
    assert_output "casestudy.py: skipped: NumPy is not installed (sudo apt-get install python3-numpy)"
}

@test "the Python twin refuses --trials 0 and --elements 0 (exit 2, before any work)" {
    local py
    py=$(python_with_numpy)
    [ -n "$py" ] || skip "no python3 with NumPy (sudo apt-get install python3-numpy)"
    run timeout 120 "$py" "$KIT_ROOT/chapters/09-casestudy/casestudy.py" --trials 0 \
        --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--trials: 0 is out of range (accepted: 1 to 1000)"
    run timeout 120 "$py" "$KIT_ROOT/chapters/09-casestudy/casestudy.py" --elements 0 \
        --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--elements must be 1000..10^9"
    [ ! -e "$BATS_TEST_TMPDIR/none" ] || fail "a rejected run created its --out directory"
}
