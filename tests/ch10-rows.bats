#!/usr/bin/env bats
# Chapter 10: processing many rows. Behaviour, not timings.

load test_helper

setup_file() {
    # the program makes its data directory under $TMPDIR: ours, so leftovers are visible
    mkdir -p "$BATS_FILE_TMPDIR/tmp"
    TMPDIR="$BATS_FILE_TMPDIR/tmp" quick_run_once ch10-rows --workers 2
}

setup() {
    export TMPDIR="$BATS_TEST_TMPDIR/tmp"
    mkdir -p "$TMPDIR"
}

assert_no_shm_left() {   # assert_no_shm_left PID
    local left
    left=$(ls -A /dev/shm 2>/dev/null | grep -- "^ch10-rows-$1-" || true)
    [ -z "$left" ] || fail "left behind in /dev/shm: $left"
}

# The header and two rows a and b; key a: value 5 * (1 % 7 + 1) + 4 = 14, b: 7 * 3 + 23 = 44.
# 19 + 11 = 30 bytes before the last row, which is 30 bytes long: with 2 workers the range
# boundary (byte 30) falls exactly on a line start.
two_rows() {
    printf 'id,key,amount,text\n1,a,5,wxyz\n2,b,7,abcdefghijklmnopqrstuvw\n'
}
two_rows_totals=$'a 1 14 14 14\nb 1 44 44 44'

# Every C method (and W = 1 .. 4) over FILE; the sequential totals must be EXPECTED.
all_methods_agree() {
    local file=$1 expected=$2
    shift 2
    run kit ch10-rows --input "$file" --only methods --workers 2 --trials 1 --totals "$BATS_TEST_TMPDIR/totals" \
        --out "$BATS_TEST_TMPDIR/out" "$@"
    assert_success
    assert_output --partial "verification: every method's per-key count, sum, min and max equal"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/totals")" "$expected"
    run kit ch10-rows --input "$file" --only workers --workers 2 --trials 1 --out "$BATS_TEST_TMPDIR/out" "$@"
    assert_success
    run awk -F'\t' '$1 == "byte-ranges-pread" { print $2 }' "$BATS_TEST_TMPDIR/out/ch10-workers.tsv"
    assert_output "$(seq 1 4)"
}

@test "quick run exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every method's per-key count, sum, min and max equal the sequential pass's, every row counted once"
    assert_output --regexp "data: generated, 100000 rows, [0-9.]+ MB, 100 keys, 100001 lines; totals digest [0-9a-f]{16}"
    assert_output --partial "effective CPUs:"
    refute_output --partial "verification failed"
}

@test "quick run leaves no process, no data directory and no shared memory behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
    assert_no_data_left "$BATS_FILE_TMPDIR/tmp"
    assert_no_shm_left "$(cat "$BATS_FILE_TMPDIR/sid")"
}

@test "writes the four TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch10 methods chunksize workers cold
}

@test "methods: every C method and shell tool, in Mrows/s, x = processes" {
    local want=(sequential/1 per-row/2 chunks/2 byte-ranges-pread/2 byte-ranges-mmap/2 shared-output/2)
    command -v parallel >/dev/null && want+=(parallel+awk/2)
    want+=(awk/1 wc-l/1 cat/1)
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 }' "$QUICK/ch10-methods.tsv"
    assert_output "$(printf '%s\n' "${want[@]}")"
    run awk -F'\t' '!/^#/ && $1 != "variant" && $3 != "Mrows/s"' "$QUICK/ch10-methods.tsv"
    assert_output ""
    # cat is called the read ceiling only when it was faster than the byte ranges
    run cat "$BATS_FILE_TMPDIR/out"
    assert_line --regexp "^  -> byte-ranges-(mmap|pread) ran at [0-9]+% of cat's rate \((the read ceiling: one process reading the file, no parsing|no ceiling here: cat is one process that copies every byte, timed with its shell's start)\) and [0-9]+% of wc -l's \(one pass looking for '\\\\n'\), with 2 processes against 1$"
}

@test "methods: a cat slower than the byte ranges is not called the read ceiling" {
    # a cat that sleeps a second first: 100000 rows in over a second is under 0.1 M rows/s
    local bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    printf '#!/bin/sh\nsleep 1\nexec %s "$@"\n' "$(command -v cat)" >"$bin/cat"
    chmod +x "$bin/cat"
    PATH="$bin:$PATH" run kit ch10-rows --quick --only methods --trials 1 --out "$BATS_TEST_TMPDIR/out"
    assert_success
    assert_line --regexp "^  -> byte-ranges-(mmap|pread) ran at [0-9]+% of cat's rate \(no ceiling here: cat is one process that copies every byte, timed with its shell's start\) and [0-9]+% of wc -l's \(one pass looking for '\\\\n'\), with 2 processes against 1$"
}

@test "chunksize: K = 1 .. 100000; workers: three methods at W = 1 .. 4; cold: x = 0 and 1" {
    run awk -F'\t' '$1 == "chunks" { print $2 }' "$QUICK/ch10-chunksize.tsv"
    assert_output "$(printf '%s\n' 1 10 100 1000 10000 100000)"
    run grep -E '^# sequential_mrows=[0-9.e+-]+ byte_ranges_mrows=[0-9.e+-]+ workers=2 messages=2000$' "$QUICK/ch10-chunksize.tsv"
    assert_success
    for v in byte-ranges-mmap byte-ranges-pread chunks; do
        run awk -F'\t' -v v="$v" '$1 == v { print $2 }' "$QUICK/ch10-workers.tsv"
        assert_output "$(seq 1 4)"
    done
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 }' "$QUICK/ch10-cold.tsv"
    assert_output "$(printf '%s\n' sequential/0 byte-ranges-pread/0 byte-ranges-mmap/0 cat/0 \
        sequential/1 byte-ranges-pread/1 byte-ranges-mmap/1 cat/1)"
    run grep -E '^# most_resident_after_evict=[01]\.[0-9]{4} workers=2$' "$QUICK/ch10-cold.tsv"
    assert_success
}

@test "the sequential totals equal an independent awk over the same generated file" {
    local f="$BATS_TEST_TMPDIR/rows.csv"
    run kit ch10-rows --generate "$f" --rows 5000 --seed 3
    assert_success
    assert_output --regexp "rows\.csv: 5000 rows, [0-9]+ bytes \(seed 3\)"
    run kit ch10-rows --input "$f" --only methods --workers 3 --trials 1 --totals "$BATS_TEST_TMPDIR/totals" \
        --out "$BATS_TEST_TMPDIR/out"
    assert_success
    run awk -F, 'NR > 1 { v = $3 * ($1 % 7 + 1) + length($4); k = $2
        if (!(k in n)) { lo[k] = v; hi[k] = v }
        n[k]++; s[k] += v; if (v < lo[k]) lo[k] = v; if (v > hi[k]) hi[k] = v }
        END { for (k in n) printf "%s %d %.0f %.0f %.0f\n", k, n[k], s[k], lo[k], hi[k] }' "$f"
    assert_equal "$(LC_ALL=C sort <<<"$output")" "$(cat "$BATS_TEST_TMPDIR/totals")"
    [ "$(awk '{ n += $2 } END { print n }' "$BATS_TEST_TMPDIR/totals")" = 5000 ] || fail "rows do not add up to 5000"
}

@test "boundary: a range boundary exactly on a line start, and rows straddling boundaries" {
    two_rows >"$BATS_TEST_TMPDIR/two.csv"
    [ "$(wc -c <"$BATS_TEST_TMPDIR/two.csv")" = 60 ] || fail "the test file must be 60 bytes"
    all_methods_agree "$BATS_TEST_TMPDIR/two.csv" "$two_rows_totals"
}

@test "boundary: a file without a final newline" {
    two_rows | head -c -1 >"$BATS_TEST_TMPDIR/nonl.csv"
    all_methods_agree "$BATS_TEST_TMPDIR/nonl.csv" "$two_rows_totals"
}

@test "boundary: CRLF line ends give the same totals as LF" {
    two_rows | sed 's/$/\r/' >"$BATS_TEST_TMPDIR/crlf.csv"
    all_methods_agree "$BATS_TEST_TMPDIR/crlf.csv" "$two_rows_totals"
}

@test "boundary: empty lines are skipped, not counted" {
    printf 'id,key,amount,text\n\n1,a,5,wxyz\n\n\n2,b,7,abcdefghijklmnopqrstuvw\n\n' >"$BATS_TEST_TMPDIR/empty.csv"
    all_methods_agree "$BATS_TEST_TMPDIR/empty.csv" "$two_rows_totals"
}

@test "boundary: a row longer than the read block (4 KiB) and than a pipe's buffer" {
    local text
    text=$(head -c 100000 /dev/zero | tr '\0' x)
    { two_rows; printf '3,a,-2,%s\n' "$text"; two_rows | tail -n 2; } >"$BATS_TEST_TMPDIR/long.csv"
    # key a: 14, -2 * 4 + 100000 = 99992, 14; key b: 44 twice
    all_methods_agree "$BATS_TEST_TMPDIR/long.csv" $'a 3 100020 14 99992\nb 2 88 44 44' --block 4K
}

@test "boundary: a quoted field is refused with its line number (exit 2, nothing run)" {
    { two_rows; printf '3,a,5,"x,y"\n'; } >"$BATS_TEST_TMPDIR/quoted.csv"
    usage_error ch10-rows --input "$BATS_TEST_TMPDIR/quoted.csv"
    assert_line --index 0 "ch10-rows: --input: '$BATS_TEST_TMPDIR/quoted.csv', line 4: a double quote: quoted fields are outside this chapter's CSV subset"
}

@test "a worker that drops a row is caught" {
    run kit ch10-rows --quick --only workers --workers 1 --trials 1 --inject drop-row --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --partial "verification failed: byte-ranges-mmap: 99999 rows counted, the sequential pass counted 100000"
    assert_no_data_left "$TMPDIR"
}

@test "--only writes that experiment alone, --help prints the usage and the CSV subset" {
    run kit ch10-rows --quick --only cold --trials 1 --out "$BATS_TEST_TMPDIR/only"
    assert_success
    run ls "$BATS_TEST_TMPDIR/only"
    assert_output "ch10-cold.tsv"
    run kit ch10-rows --help
    assert_success
    assert_output --partial "Usage: ch10-rows"
    assert_output --partial "The CSV subset:"
}

bad_input() {
    usage_error ch10-rows "$@"
    assert_no_data_left "$TMPDIR"
}

@test "bad input: flags and numbers" {
    bad_input --frobnicate
    assert_line --index 0 "ch10-rows: unknown option '--frobnicate'"
    bad_input --rows 0
    assert_line --index 0 "ch10-rows: --rows: 0 is out of range (accepted: 1000 to 1000000000)"
    bad_input --rows many
    assert_line --index 0 --partial "--rows: 'many' is not a whole number"
    bad_input --chunk 0
    assert_line --index 0 "ch10-rows: --chunk: 0 is out of range (accepted: 1 to 1000000)"
    bad_input --messages 0
    assert_line --index 0 --partial "--messages: 0 is out of range"
    bad_input --block 1K
    assert_line --index 0 "ch10-rows: --block: 1K is out of range (accepted: 4K to 64M)"
    bad_input --workers 0
    assert_line --index 0 "ch10-rows: --workers: 0 is out of range (accepted: 1 to 1024)"
    bad_input --only nosuch
    assert_line --index 0 "ch10-rows: --only: 'nosuch' is not an experiment (accepted: methods, chunksize, workers, cold)"
    bad_input --inject typo
    assert_line --index 0 "ch10-rows: --inject: 'typo' is not a fault (accepted: drop-row)"
    bad_input --rows
    assert_line --index 0 "ch10-rows: --rows needs a value"
}

@test "bad input: --input missing, a directory, empty, a header only, not 4 fields, with --rows" {
    bad_input --input "$BATS_TEST_TMPDIR/no-such.csv"
    assert_line --index 0 "ch10-rows: --input: cannot open '$BATS_TEST_TMPDIR/no-such.csv': No such file or directory"
    bad_input --input "$BATS_TEST_TMPDIR"
    assert_line --index 0 "ch10-rows: --input: '$BATS_TEST_TMPDIR' is not a regular file"
    : >"$BATS_TEST_TMPDIR/empty.csv"
    bad_input --input "$BATS_TEST_TMPDIR/empty.csv"
    assert_line --index 0 --partial "is empty (a header line and at least one row are needed)"
    printf 'id,key,amount,text\n' >"$BATS_TEST_TMPDIR/header.csv"
    bad_input --input "$BATS_TEST_TMPDIR/header.csv"
    assert_line --index 0 "ch10-rows: --input: '$BATS_TEST_TMPDIR/header.csv' has no rows after its header line"
    { two_rows; printf '3,a,5\n'; } >"$BATS_TEST_TMPDIR/three.csv"
    bad_input --input "$BATS_TEST_TMPDIR/three.csv"
    assert_line --index 0 "ch10-rows: --input: '$BATS_TEST_TMPDIR/three.csv', line 4: not 4 comma-separated fields (id,key,amount,text)"
    bad_input --input "$BATS_TEST_TMPDIR/three.csv" --rows 5000
    assert_line --index 0 "ch10-rows: --rows: not with --input (the file has the rows it has)"
}

@test "SIGINT in the middle of a run: exit 130, workers reaped, data and shared memory removed" {
    interrupt_mid_run INT "methods:" ch10-rows --only methods --rows 200000 --trials 100000 --out "$BATS_TEST_TMPDIR"
    assert_no_data_left "$TMPDIR"
    assert_no_shm_left "$KIT_PID"
}

@test "SIGTERM during the workers experiment: exit 143, workers reaped, data removed" {
    interrupt_mid_run TERM "workers:" ch10-rows --only workers --rows 200000 --trials 100000 --out "$BATS_TEST_TMPDIR"
    assert_no_data_left "$TMPDIR"
    assert_no_shm_left "$KIT_PID"
}

@test "kill -9 of the program leaves no data file (unlinked once open) and no worker behind" {
    start_in_session ch10-rows --only workers --rows 200000 --trials 100000 --out "$BATS_TEST_TMPDIR"
    wait_for_output "workers:" 60
    assert_no_data_left "$TMPDIR"          # already gone while the program runs
    run grep -E "generated 200000 rows .*, already unlinked: /proc/$KIT_PID/fd/[0-9]+$" "$BATS_TEST_TMPDIR/err"
    assert_success
    kill -KILL "$KIT_PID"
    wait_kit 10
    assert_equal "$KIT_STATUS" 137
    assert_session_empty "$KIT_PID"        # the workers die with their parent
    assert_no_shm_left "$KIT_PID"
}

@test "a killed worker is reported (which worker, which signal, which method), exit 1, nothing left" {
    # 2 M rows: each trial keeps its workers alive long enough for the loop below to find them
    start_in_session ch10-rows --only workers --rows 2000000 --trials 100000 --out "$BATS_TEST_TMPDIR"
    wait_for_output "workers:" 60
    local i pid
    for ((i = 0; i < 400; i++)); do
        kill -0 "$KIT_PID" 2>/dev/null || break
        for pid in $(forked_children_of "$KIT_PID"); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        sleep 0.02
    done
    wait_kit 10
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch10-rows: worker [0-9]+ \(pid [0-9]+\) killed by signal 9 \(Killed\) while running (byte-ranges-mmap|byte-ranges-pread|chunks)[ ,]"
    assert_session_empty "$KIT_PID"
    assert_no_data_left "$TMPDIR"
    assert_no_shm_left "$KIT_PID"
}

@test "rows.py: every recipe agrees with the C totals; recipe 3 as written fails in every worker" {
    requires command python3
    local f="$BATS_TEST_TMPDIR/rows.csv" c_digest
    run kit ch10-rows --generate "$f" --rows 2000 --seed 5
    assert_success
    run kit ch10-rows --input "$f" --only cold --trials 1 --out "$BATS_TEST_TMPDIR/c"
    assert_success
    c_digest=$(sed -n 's/.*totals digest \([0-9a-f]*\)$/\1/p' <<<"$output")
    run timeout 300 python3 "$KIT_ROOT/chapters/10-rows/rows.py" "$f" --trials 1 --per-row-rows 500 \
        --workers 2 --out "$BATS_TEST_TMPDIR/py"
    assert_success
    assert_line --regexp "^rows.py: Python [0-9.]+, 2000 rows, 100 keys, totals digest $c_digest, workers 2, trials 1$"
    assert_line --regexp "^  shm-as-written +FAILS as written: 2 of 2 workers failed \(exit codes \[17, 17\]\) after [0-9.]+ s \(FileExistsError in each: the parent already created the name\)$"
    assert_output --partial "verification: every variant's per-key totals equal the sequential loop's"
    assert_tsv "$BATS_TEST_TMPDIR/py/ch10-python-methods.tsv"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 }' "$BATS_TEST_TMPDIR/py/ch10-python-methods.tsv"
    assert_output "$(printf '%s\n' sequential pool.map pool.map-chunk1 queue-chunks shm-lock-held shm-no-lock byte-ranges)"
}

@test "rows.py: FileExistsError is named only when every worker exited with EEXIST" {
    requires command python3
    # run_variant given a recipe that fails the ways RecipeFailed reports: all EEXIST, or not
    run python3 -c '
import sys, types
sys.path.insert(0, sys.argv[1])
import rows
args = types.SimpleNamespace(workers=2, file="unused")
for text, all_exist in (("2 of 2 workers failed (exit codes [17, 17])", True),
                        ("1 of 2 workers failed (exit codes [1])", False)):
    def fail(path, workers, a, text=text, all_exist=all_exist):
        raise rows.RecipeFailed(text, all_exist)
    rows.run_variant("shm-as-written", fail, True, args, None, None)
' "$KIT_ROOT/chapters/10-rows"
    assert_success
    assert_line --index 0 --regexp "^  shm-as-written +FAILS as written: 2 of 2 workers failed \(exit codes \[17, 17\]\) after [0-9.]+ s \(FileExistsError in each: the parent already created the name\)$"
    assert_line --index 1 --regexp "^  shm-as-written +FAILS as written: 1 of 2 workers failed \(exit codes \[1\]\) after [0-9.]+ s \(each worker's error is on stderr\)$"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 10 "$QUICK"
}

@test "Figure 10.2: \"still\" only when the best K stayed below the byte ranges (made-up table)" {
    requires gnuplot
    local dir="$BATS_TEST_TMPDIR/data"
    mkdir -p "$dir"
    chunksize() {
        printf '# chapter=10 program=rows experiment=chunksize mode=quick\n# host=t cpus=2\n'
        printf '# sequential_mrows=12 byte_ranges_mrows=%s workers=2 messages=2000\n' "$1"
        printf 'variant\trows_per_message\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\n'
        printf 'chunks\t100\tMrows/s\t2\t8\t8\t8\t8\t0\nchunks\t1\tMrows/s\t2\t0.5\t0.5\t0.5\t0.5\t0\n'
    }
    title() {
        "$KIT_ROOT/harness/plot.sh" --svg-only --data "$dir" --out "$dir/out" "$KIT_ROOT/plots/ch10-chunksize.gp" >/dev/null 2>&1
        grep -oE '<text>Rows per message[^<]+</text>' "$dir/out/ch10-chunksize.svg" | sed 's/<[^>]*>//g'
    }
    chunksize 10 >"$dir/ch10-chunksize.tsv"
    run title
    assert_output "Rows per message: K=100 is 16x K=1, still 0.80x the byte ranges (W=2; median, min-max)"
    chunksize 4 >"$dir/ch10-chunksize.tsv"
    run title
    assert_output "Rows per message: K=100 is 16x K=1, 2.00x the byte ranges (W=2; median, min-max)"
}
