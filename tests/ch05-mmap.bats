#!/usr/bin/env bats
# Chapter 5: memory-mapped files vs read(), split across processes. Behaviour, not timings.

load test_helper

setup_file() {
    # the program makes its private data directory under $TMPDIR: ours, so leftovers are visible
    mkdir -p "$BATS_FILE_TMPDIR/tmp"
    TMPDIR="$BATS_FILE_TMPDIR/tmp" quick_run_once ch05-mmap --workers 2
}

setup() {
    # every other run gets its own $TMPDIR, checked for leftovers
    export TMPDIR="$BATS_TEST_TMPDIR/tmp"
    mkdir -p "$TMPDIR"
}

@test "quick run exits 0 and states what it verified" {
    [ "$(cat "$BATS_FILE_TMPDIR/status")" = 0 ] || fail "exit $(cat "$BATS_FILE_TMPDIR/status"): $(cat "$BATS_FILE_TMPDIR/err")"
    run cat "$BATS_FILE_TMPDIR/out"
    assert_output --partial "verification: every sum exact, every worker's range checked"
    assert_output --partial "effective CPUs:"
    refute_output --partial "verification failed"
}

@test "every method's sum equals the exact sum known from writing the file" {
    local expected
    expected=$(sed -n 's/^data file: .*, exact sum \(-\?[0-9.]*\)$/\1/p' "$BATS_FILE_TMPDIR/out")
    [ -n "$expected" ] || fail "no 'exact sum' in the output"
    run grep -c "sums: every method returned exactly $expected, " "$BATS_FILE_TMPDIR/out"
    assert_output 2        # methods and cold
}

@test "the workers' ranges tile the file: from 0, contiguous, page-aligned, to the last byte" {
    local line
    line=$(grep -m1 '^  ranges of mmap-2 (page = 4096 bytes):' "$BATS_FILE_TMPDIR/out") || skip "page size is not 4096"
    run awk -F'[[, )]+' '
        { if ($2 != next_begin) { print "range " NR " starts at " $2 ", expected " next_begin + 0; exit 1 }
          if ($2 % 4096) { print "range " NR " is not page-aligned"; exit 1 }
          next_begin = $3 }
        END { print (NR == 2 && next_begin == 4000000) ? "ok" : "ends at " next_begin " after " NR " ranges" }' \
        <<<"$(grep -o '\[[0-9]*, [0-9]*)' <<<"$line")"
    assert_output "ok"
}

@test "quick run leaves no process and no data file behind" {
    assert_session_empty "$(cat "$BATS_FILE_TMPDIR/sid")"
    local file
    file=$(sed -n 's/^data file: \([^,]*\),.*/\1/p' "$BATS_FILE_TMPDIR/out")
    [[ $file =~ ^$BATS_FILE_TMPDIR/tmp/ch05-mmap-[0-9]+-[A-Za-z0-9]{6}/data\.f32$ ]] || fail "data file was $file"
    [ ! -e "$file" ] || fail "$file is still there"
    assert_no_data_left "$BATS_FILE_TMPDIR/tmp"
}

@test "writes the four TSV files in the kit's format" {
    assert_tsv_files "$QUICK" ch05 methods cold workers bufsize
}

@test "methods and cold: one row per method in MB/s, x = processes" {
    local want
    want=$(printf '%s\n' read/1/MB/s mmap/1/MB/s mmap-advise/1/MB/s mmap-populate/1/MB/s pread-2/2/MB/s mmap-2/2/MB/s)
    for e in methods cold; do
        run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 "/" $3 }' "$QUICK/ch05-$e.tsv"
        assert_output "$want"
    done
}

@test "cold: says whether the eviction took effect, and records it" {
    run grep -E '^  -> eviction (worked|did NOT take effect)' "$BATS_FILE_TMPDIR/out"
    assert_success
    run grep -E '^# most_resident_after_evict=[01]\.[0-9]{4}$' "$QUICK/ch05-cold.tsv"
    assert_success
}

@test "workers: mmap-N and pread-N for N = 1 .. 2 x workers" {
    run awk -F'\t' '$1 == "mmap-N" { print $2 }' "$QUICK/ch05-workers.tsv"
    assert_output "$(seq 1 4)"
    run awk -F'\t' '$1 == "pread-N" { print $2 }' "$QUICK/ch05-workers.tsv"
    assert_output "$(seq 1 4)"
    run grep -E '^# effective_cpus=[0-9]+\.[0-9]+$' "$QUICK/ch05-workers.tsv"
    assert_success
}

@test "bufsize: read() with 4 KiB .. 16 MiB buffers (powers of 4 in --quick)" {
    run awk -F'\t' '$1 == "read" { print $2 }' "$QUICK/ch05-bufsize.tsv"
    assert_output "$(printf '%s\n' 4 16 64 256 1024 4096 16384)"
}

@test "exact sums and coverage hold for a file that ends mid-page, and with more workers than pages" {
    run kit ch05-mmap --only workers --size 40004 --workers 3 --trials 1 --seed 7 --out "$BATS_TEST_TMPDIR"
    assert_success
    run kit ch05-mmap --only workers --size 8K --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR"
    assert_success
    run awk -F'\t' '$1 == "mmap-N" { print $2 }' "$BATS_TEST_TMPDIR/ch05-workers.tsv"
    assert_output "$(seq 1 6)"       # 2 pages, up to 6 workers: some ranges are empty
    assert_no_data_left "$TMPDIR"
}

@test "a worker that reads one page too many is caught (overlap), and the file removed" {
    run kit ch05-mmap --quick --only methods --workers 2 --trials 1 --inject overlap --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: pread-2: ranges overlap: bytes [0-9]+\.\.[0-9]+ summed by worker 0 and again by worker 1"
    assert_no_data_left "$TMPDIR"
}

@test "a worker that skips a page is caught (gap)" {
    run kit ch05-mmap --quick --only workers --workers 2 --trials 1 --inject gap --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: mmap-2: a gap between ranges: bytes [0-9]+\.\.[0-9]+ summed by no worker"
    assert_no_data_left "$TMPDIR"
}

@test "a worker whose partial sum is wrong is caught" {
    run kit ch05-mmap --quick --only workers --workers 2 --trials 1 --inject sum --out "$BATS_TEST_TMPDIR"
    assert_failure 1
    assert_output --regexp "verification failed: mmap-2: worker 1 summed -?[0-9.]+ over bytes [0-9]+\.\.4000000, expected"
    assert_no_data_left "$TMPDIR"
}

@test "--dir: the data file is made there, named with the pid, and removed; the directory stays" {
    mkdir "$BATS_TEST_TMPDIR/data"
    run kit ch05-mmap --quick --only bufsize --trials 1 --dir "$BATS_TEST_TMPDIR/data" --out "$BATS_TEST_TMPDIR"
    assert_success
    assert_output --regexp "data file: $BATS_TEST_TMPDIR/data/ch05-mmap-[0-9]+\.f32, 4\.0 MB"
    [ -d "$BATS_TEST_TMPDIR/data" ] || fail "--dir was removed"
    assert_no_data_left "$BATS_TEST_TMPDIR/data"
    assert_no_data_left "$TMPDIR"
}

@test "--only writes that experiment alone" {
    run kit ch05-mmap --quick --only bufsize --trials 1 --out "$BATS_TEST_TMPDIR/only"
    assert_success
    run ls "$BATS_TEST_TMPDIR/only"
    assert_output "ch05-bufsize.tsv"
}

@test "--help prints the usage and exits 0" {
    run kit ch05-mmap --help
    assert_success
    assert_output --partial "Usage: ch05-mmap"
    assert_output --partial "--dir DIR"
    assert_output --partial "--size SIZE"
}

bad_input() {
    usage_error ch05-mmap "$@"
    refute_output --partial "methods:"
    assert_no_data_left "$TMPDIR"
    [ ! -e "$BATS_TEST_TMPDIR/bad" ] || fail "--out was created before the input was rejected"
}

@test "bad input: unknown flag, zero workers, a missing value" {
    bad_input --frobnicate
    assert_line --index 0 "ch05-mmap: unknown option '--frobnicate'"
    bad_input --workers 0
    assert_line --index 0 "ch05-mmap: --workers: 0 is out of range (accepted: 1 to 1024)"
    bad_input --size
    assert_line --index 0 "ch05-mmap: --size needs a value"
}

@test "bad input: --size and --bufsize must be sizes, multiples of 4 bytes, within range" {
    bad_input --size 10Q
    assert_line --index 0 --partial "--size: '10Q' is not a size"
    bad_input --size 4098
    assert_line --index 0 "ch05-mmap: --size: 4098 is not a multiple of 4 bytes (one float32)"
    bad_input --size 1K
    assert_line --index 0 --partial "--size: 1K is out of range (accepted: 4K to"
    bad_input --bufsize 2K
    assert_line --index 0 "ch05-mmap: --bufsize: 2K is out of range (accepted: 4K to 64M)"
    bad_input --bufsize 4099
    assert_line --index 0 --partial "--bufsize: 4099 is not a multiple of 4 bytes"
}

@test "bad input: --only and --inject accept only their names" {
    bad_input --only nosuch
    assert_line --index 0 "ch05-mmap: --only: 'nosuch' is not an experiment (accepted: methods, cold, workers, bufsize)"
    bad_input --inject typo
    assert_line --index 0 "ch05-mmap: --inject: 'typo' is not a fault (accepted: overlap, gap, sum, stall)"
}

@test "bad input: a workers sweep the mode cannot finish is refused with its size" {
    local most=$(( $(nproc) > 8 ? $(nproc) : 8 ))
    bad_input --quick --only workers --workers 1024
    assert_line --index 0 "ch05-mmap: --workers: 1024 makes the workers experiment fork 4196352 processes per trial (N = 1..2W, mmap and pread); --quick allows up to $most (use --full to run it anyway, or --only another experiment)"
}

@test "bad input: --dir that does not exist" {
    bad_input --dir "$BATS_TEST_TMPDIR/no-such-dir"
    assert_line --index 0 "ch05-mmap: --dir: '$BATS_TEST_TMPDIR/no-such-dir' does not exist"
}

@test "bad input: --dir that is a file, not a directory" {
    touch "$BATS_TEST_TMPDIR/plain-file"
    bad_input --dir "$BATS_TEST_TMPDIR/plain-file"
    assert_line --index 0 "ch05-mmap: --dir: '$BATS_TEST_TMPDIR/plain-file' is not a directory"
}

@test "bad input: --dir where no file can be created (/proc, even for root)" {
    bad_input --dir /proc
    assert_line --index 0 --regexp "^ch05-mmap: --dir: cannot create a file in '/proc': "
}

@test "bad input: --size larger than the free disk space" {
    local avail_k
    avail_k=$(df -k --output=avail "$TMPDIR" | tail -1 | tr -d ' ')
    bad_input --size "$((avail_k + 1048576))K"
    assert_line --index 0 --regexp "^ch05-mmap: --size: [0-9.]+[KMGT] is larger than the free space in '$TMPDIR/ch05-mmap-[0-9]+-[A-Za-z0-9]+' \([0-9.]+[KMGT]?\)$"
}

@test "bad input: --size larger than the available memory" {
    local avail_k mem_k
    avail_k=$(df -k --output=avail "$TMPDIR" | tail -1 | tr -d ' ')
    mem_k=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    [ "$avail_k" -gt $((mem_k + 4194304)) ] || skip "the disk has less free space than memory: the disk check comes first"
    bad_input --size "$((mem_k + 1048576))K"
    assert_line --index 0 --regexp "^ch05-mmap: --size: [0-9.]+[KMGT] is larger than the available memory"
}

@test "SIGINT in the middle of a run: exit 130, workers reaped, data file removed" {
    interrupt_mid_run INT "methods:" ch05-mmap --only methods --size 16M --trials 1000 --out "$BATS_TEST_TMPDIR"
    assert_no_data_left "$TMPDIR"
}

@test "SIGTERM during the workers experiment: exit 143, workers reaped, data file removed" {
    interrupt_mid_run TERM "workers:" ch05-mmap --only workers --size 16M --trials 1000 --out "$BATS_TEST_TMPDIR"
    assert_no_data_left "$TMPDIR"
}

# --inject stall: worker 0 of every split run waits until it is killed, so the kill always lands
# on a live worker, however slowly the machine runs.
@test "a killed worker is reported (which worker, which signal, which bytes), exit 1, file removed" {
    start_in_session ch05-mmap --only workers --size 16M --trials 1000 --inject stall --out "$BATS_TEST_TMPDIR"
    wait_for_output "workers:" 60
    local pid
    while kill -0 "$KIT_PID" 2>/dev/null; do
        for pid in $(forked_children_of "$KIT_PID"); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        sleep 0.05
    done
    wait_kit 60
    assert_equal "$KIT_STATUS" 1
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "ch05-mmap: (mmap|pread)-[0-9]+: worker 0 of [0-9]+ \(bytes [0-9]+\.\.[0-9]+\) was killed by signal 9 \(Killed\)"
    assert_session_empty "$KIT_PID"
    assert_no_data_left "$TMPDIR"
}

@test "the parent killed with SIGKILL leaves no data file and no directory (its names go at once)" {
    start_in_session ch05-mmap --only workers --size 16M --inject stall --out "$BATS_TEST_TMPDIR"
    wait_for_output "workers:" 60
    kill -KILL "$KIT_PID"
    wait "$KIT_PID" || true
    assert_session_empty "$KIT_PID"
    assert_no_data_left "$TMPDIR"
}

@test "a stop signal at any early moment leaves nothing behind" {
    local i sig
    for ((i = 0; i < 24; i++)); do
        sig=TERM
        ((i % 2)) && sig=INT
        start_in_session ch05-mmap --quick --only bufsize --trials 1 --out "$BATS_TEST_TMPDIR/o$i"
        sleep "0.00$((i / 2))"
        kill -"$sig" "$KIT_PID" 2>/dev/null || true
        wait_kit 60
        [[ $KIT_STATUS =~ ^(0|130|143)$ ]] || fail "run $i ($sig): exit $KIT_STATUS: $(cat "$BATS_TEST_TMPDIR/err")"
        assert_session_empty "$KIT_PID"
        assert_no_data_left "$TMPDIR"
    done
}

@test "a file-size limit: one error line, exit 1, nothing left" {
    requires command prlimit
    local status=0
    prlimit --fsize=1000000 "$KIT_BUILD/ch05-mmap" --quick --out "$BATS_TEST_TMPDIR" \
        >/dev/null 2>"$BATS_TEST_TMPDIR/err" || status=$?
    assert_equal "$status" 1
    run grep -v "^ch05-mmap: warning: " "$BATS_TEST_TMPDIR/err"
    assert_output "ch05-mmap: write (data file): File too large"
    assert_no_data_left "$TMPDIR"
}

@test "the figures render from the quick data" {
    requires gnuplot
    assert_plots_render 05 "$QUICK"
}

# ---------- the Python twin (readers.py) ----------

READERS_PY="$KIT_ROOT/chapters/05-mmap/readers.py"

# A python3 that has NumPy: the one on PATH, or Debian's.
python_with_numpy() {
    local p
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { echo "$p"; return; }
    done
}

@test "readers.py: a short run checks every sum and range, writes two TSVs, leaves nothing behind" {
    local py t="$BATS_TEST_TMPDIR/py/ch05-python-methods.tsv" w="$BATS_TEST_TMPDIR/py/ch05-python-workers.tsv"
    py=$(python_with_numpy)
    [ -n "$py" ] || skip "no python3 with NumPy (sudo apt-get install python3-numpy)"
    run timeout 300 "$py" "$READERS_PY" --quick --size 40000 --workers 2 --trials 1 --out "$BATS_TEST_TMPDIR/py"
    assert_success
    assert_output --partial "verification: every sum exact, every worker's range checked (no gap, no overlap), data file removed"
    refute_output --partial "verification failed"
    assert_no_data_left "$TMPDIR"
    assert_tsv "$t" "$w"
    run sed -n '1p' "$t"
    assert_output "# chapter=05 program=readers.py experiment=methods mode=quick"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 "/" $3 }' "$t"
    assert_output "$(printf '%s\n' read/1/MB/s read-pysum/1/MB/s mmap/1/MB/s numpy.memmap/1/MB/s \
        pread-2/2/MB/s mmap-2/2/MB/s memmap-2/2/MB/s)"
    run awk -F'\t' '!/^#/ && $1 != "variant" { print $1 "/" $2 }' "$w"
    assert_output "$(for n in 1 2 3 4; do printf 'mmap-N/%s\npread-N/%s\n' "$n" "$n"; done)"
    if command -v gnuplot >/dev/null; then
        cp "$QUICK/ch05-methods.tsv" "$BATS_TEST_TMPDIR/py/"
        run "$KIT_ROOT/harness/plot.sh" --data "$BATS_TEST_TMPDIR/py" --out "$BATS_TEST_TMPDIR/plots" \
            "$KIT_ROOT/plots/ch05-python.gp"
        assert_success
        grep -q 'Py numpy.memmap' "$BATS_TEST_TMPDIR/plots/ch05-python.svg" || fail "no Python bars in ch05-python.svg"
        assert_white_background "$BATS_TEST_TMPDIR/plots/ch05-python.svg"
    fi
}

@test "readers.py: the same values as ch05-mmap (the same exact sum for a size and seed)" {
    local py c p
    py=$(python_with_numpy)
    [ -n "$py" ] || skip "no python3 with NumPy (sudo apt-get install python3-numpy)"
    run kit ch05-mmap --quick --only bufsize --size 40004 --seed 7 --trials 1 --out "$BATS_TEST_TMPDIR/c"
    assert_success
    c=$(sed -n 's/^data file: .*, exact sum \(-\?[0-9.]*\)$/\1/p' <<<"$output")
    run timeout 120 "$py" "$READERS_PY" --quick --only methods --size 40004 --seed 7 --workers 3 --trials 1 --out "$BATS_TEST_TMPDIR/py"
    assert_success
    p=$(sed -n 's/^data file: .*, exact sum \(-\?[0-9.]*\) (.*$/\1/p' <<<"$output")
    [ -n "$c" ] || fail "no exact sum in ch05-mmap's output"
    assert_equal "$p" "$c"
}

@test "readers.py without NumPy: skipped with the install command, exit 0, nothing written" {
    requires command python3
    mkdir -p "$BATS_TEST_TMPDIR/nonumpy"
    echo 'raise ImportError("NumPy hidden for this test")' >"$BATS_TEST_TMPDIR/nonumpy/numpy.py"
    run env PYTHONPATH="$BATS_TEST_TMPDIR/nonumpy" timeout 60 python3 "$READERS_PY" --quick --out "$BATS_TEST_TMPDIR/none"
    assert_success
    assert_output "readers.py: skipped: NumPy is not installed (sudo apt-get install python3-numpy)"
    [ ! -e "$BATS_TEST_TMPDIR/none" ] || fail "a skipped run created its --out directory"
}

@test "readers.py: bad input exits 2 naming the option, before any work" {
    requires command python3
    run timeout 120 python3 "$READERS_PY" --size 4001 --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--size: 4001 is out of range"
    run timeout 120 python3 "$READERS_PY" --bufsize 1K --out "$BATS_TEST_TMPDIR/none"
    assert_failure 2
    assert_output --partial "--bufsize: 1024 is out of range"
    [ ! -e "$BATS_TEST_TMPDIR/none" ] || fail "a rejected run created its --out directory"
    assert_no_data_left "$TMPDIR"
}

@test "the committed Figure 5.4 (plots/reference/ch05-python.svg) draws the Python series" {
    # a figure redrawn without the twin's table would show C alone; redraw it from its run with
    # harness/plot.sh --data plots/reference/data/ch05-python-peers --out DIR plots/ch05-python.gp
    git -C "$KIT_ROOT" ls-files --error-unmatch plots/reference/data/ch05-python-peers/ch05-python-methods.tsv >/dev/null
    grep -q 'Py numpy.memmap' "$KIT_ROOT/plots/reference/ch05-python.svg" || fail "no Python series in plots/reference/ch05-python.svg"
}
