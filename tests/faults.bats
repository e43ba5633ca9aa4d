#!/usr/bin/env bats
# What every chapter program promises under faults a classroom produces: two runs sharing one
# --out, a file-size limit, an --out that is not a directory, a parent killed with SIGKILL.
# Each test runs every chapter program that is built, with a short run from short_run below.

load test_helper

# A short run of each program: one experiment, one trial, in --quick mode.
short_run() {
    case "$1" in
    ch01-fork) echo "--quick --trials 1 --only methods" ;;
    ch02-pool) echo "--quick --trials 1 --only chunksize" ;;
    ch03-ipc) echo "--quick --trials 1 --only latency" ;;
    ch04-locks) echo "--quick --trials 1 --only contention" ;;
    ch05-mmap) echo "--quick --trials 1 --only bufsize" ;;
    ch06-rectangles) echo "--quick --trials 1 --analyze --only split" ;;
    ch07-prodcons) echo "--quick --trials 1 --only throughput --variant pipe" ;;
    ch08-monitor) echo "--quick --trials 1 --only overhead" ;;
    ch09-casestudy) echo "--quick --trials 1 --only ladder --elements 100K" ;;
    ch10-rows) echo "--quick --trials 1 --only methods --rows 20000" ;;
    *) return 1 ;;
    esac
}

# A run long enough to be killed in the middle: its args, then a line it prints just before
# its workers start.
long_run() {
    case "$1" in
    ch01-fork) echo "--only speedup --trials 50|effective CPUs" ;;
    ch02-pool) echo "--only overhead --trials 50|effective CPUs" ;;
    ch03-ipc) echo "--only bandwidth --trials 50|bandwidth: pipe" ;;
    ch04-locks) echo "--only contention --trials 50|effective CPUs" ;;
    ch05-mmap) echo "--only workers --trials 200|workers:" ;;
    ch06-rectangles) echo "5 8 --workers 2|pool:" ;;
    ch07-prodcons) echo "--only mpmc --trials 50|placement:" ;;
    ch08-monitor) echo "--workload mixed --duration 20000|watching workload" ;;
    ch09-casestudy) echo "--only ladder --trials 50|workers:" ;;
    ch10-rows) echo "--only methods --trials 50|data: generated" ;;
    *) return 1 ;;
    esac
}

# Every chapter program, or with --listed only those short_run knows (the first test makes
# sure that is all of them).
programs() {
    local d p
    for d in "$KIT_ROOT"/chapters/[0-9][0-9]-*/; do
        ls "$d"*.c >/dev/null 2>&1 || continue
        p="ch$(basename "$d")"
        [ "${1:-}" = --listed ] && ! short_run "$p" >/dev/null && continue
        echo "$p"
    done
}

@test "every chapter program has a short and a long run here" {
    local p
    for p in $(programs); do
        need_program "$p"
        short_run "$p" >/dev/null || fail "tests/faults.bats: no short_run for $p"
        long_run "$p" >/dev/null || fail "tests/faults.bats: no long_run for $p"
    done
}

@test "two runs sharing one --out: both succeed and every TSV is whole, none half-written" {
    local p out a b
    for p in $(programs --listed); do
        out="$BATS_TEST_TMPDIR/$p"
        # shellcheck disable=SC2046
        kit "$p" $(short_run "$p") --out "$out" >/dev/null 2>"$out.err.a" 3>&- &
        a=$!
        kit "$p" $(short_run "$p") --out "$out" >/dev/null 2>"$out.err.b" 3>&- || fail "$p: $(cat "$out.err.b")"
        wait "$a" || fail "$p (the run beside it): $(cat "$out.err.a")"
        run "$KIT_ROOT/harness/check-tsv.sh" "$out"/*.tsv
        assert_success
        run ls -A "$out"
        refute_output --partial ".tmp"
    done
}

@test "a file-size limit: exit 1 with one line naming the file and the error; the old TSV kept" {
    requires command prlimit
    local p out tmp status
    for p in $(programs --listed); do
        out="$BATS_TEST_TMPDIR/$p" tmp="$BATS_TEST_TMPDIR/$p-tmpdir"
        mkdir -p "$out" "$tmp"
        # shellcheck disable=SC2046
        kit "$p" $(short_run "$p") --out "$out" >/dev/null 2>&1 || fail "$p: the first run failed"
        sha256sum "$out"/*.tsv >"$BATS_TEST_TMPDIR/$p.sums"
        status=0
        # stdout and stderr are pipes here, so only the program's own files meet the limit
        # shellcheck disable=SC2046
        run env TMPDIR="$tmp" prlimit --fsize=200 "$KIT_BUILD/$p" $(short_run "$p") --out "$out"
        [ "$status" -eq 1 ] || fail "$p under a 200-byte file limit: exit $status, not 1: $output"
        assert_output --regexp "^$p: .*File too large"
        run sha256sum -c --quiet "$BATS_TEST_TMPDIR/$p.sums"
        assert_success
        run ls -A "$out" "$tmp"
        refute_output --partial ".tmp"
        [ -z "$(ls -A "$tmp")" ] || fail "$p left in TMPDIR: $(ls -A "$tmp")"
    done
}

@test "--out naming a regular file is refused before any work, exit 2" {
    local p
    : >"$BATS_TEST_TMPDIR/a-file"
    for p in $(programs --listed); do
        # shellcheck disable=SC2046
        run kit "$p" $(short_run "$p") --out "$BATS_TEST_TMPDIR/a-file"
        assert_failure 2
        assert_line --index 0 "$p: --out: '$BATS_TEST_TMPDIR/a-file' is not a directory"
        refute_line --regexp '^mode='
    done
}

@test "the parent killed with SIGKILL: no process and no temporary file is left" {
    local p spec args text tmp
    for p in $(programs --listed); do
        spec=$(long_run "$p") args=${spec%|*} text=${spec#*|}
        tmp="$BATS_TEST_TMPDIR/$p-tmpdir"
        mkdir -p "$tmp"
        # shellcheck disable=SC2086
        TMPDIR="$tmp" start_in_session "$p" $args --out "$BATS_TEST_TMPDIR/$p"
        wait_for_output "$text" 30
        sleep 0.5
        kill -KILL "$KIT_PID" || {
            wait "$KIT_PID" || KIT_STATUS=$?
            fail "$p ended (status ${KIT_STATUS:-0}) before it could be killed: $(cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err")"
        }
        wait "$KIT_PID" || true
        assert_session_empty "$KIT_PID"
        [ -z "$(ls -A "$tmp")" ] || fail "$p left in TMPDIR: $(ls -A "$tmp")"
        run ls -A /dev/shm /dev/mqueue
        refute_output --partial "$p-$KIT_PID"
        run ls -A "$BATS_TEST_TMPDIR/$p"
        refute_output --partial ".tmp"
    done
}
