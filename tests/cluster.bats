#!/usr/bin/env bats
# harness/rect-cluster.sh over real ssh: a private sshd on 127.0.0.1 (its own config, throwaway
# host and client keys in $BATS_FILE_TMPDIR, nothing of the machine's ssh setup read or changed),
# two logins to it, a work directory that is not the repository, and the faults that only show up
# across machines. Where sshd cannot run here (not root, openssh-server not installable) the ssh
# tests are skipped with the reason; the checks that need no ssh run everywhere.

load test_helper

# setup_file cannot skip the tests itself: it records why, and each ssh test skips with it.
setup_file() {
    local d=$BATS_FILE_TMPDIR
    echo "" >"$d/no-ssh"
    if [ "$(id -u)" != 0 ]; then
        echo "needs root to run a private sshd" >"$d/no-ssh"; return 0
    fi
    if ! command -v /usr/sbin/sshd >/dev/null || ! command -v rsync >/dev/null; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -o DPkg::Lock::Timeout=300 install -y \
            --no-install-recommends openssh-server openssh-client rsync >"$d/apt.log" 2>&1 3>&- ||
            { apt-get update >>"$d/apt.log" 2>&1 3>&- && DEBIAN_FRONTEND=noninteractive timeout 600 \
                apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
                openssh-server openssh-client rsync >>"$d/apt.log" 2>&1 3>&-; } || true
    fi
    if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v rsync >/dev/null; then
        echo "openssh-server, openssh-client or rsync is missing and could not be installed" >"$d/no-ssh"
        return 0
    fi
    # login-a and login-b skip root's ~/.bashrc: it may run for seconds under load
    # (harness/cluster-measure.sh measures what it costs)
    "$KIT_ROOT/harness/private-sshd.sh" start "$d" --no-rc 2>"$d/sshd-start.err" 3>&- ||
        cp "$d/sshd-start.err" "$d/no-ssh"
}

teardown_file() {
    "$KIT_ROOT/harness/private-sshd.sh" stop "$BATS_FILE_TMPDIR"
    rm -rf "$BATS_FILE_TMPDIR/ssh"
}

needs_ssh() {
    local why
    why=$(cat "$BATS_FILE_TMPDIR/no-ssh")
    [ -z "$why" ] || skip "$why"
}

# cluster ARGS...: rect-cluster.sh over ssh, run from a work directory outside the repository
cluster() {
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
    RECT_OUT="$BATS_TEST_TMPDIR/work/out" run timeout --kill-after=10 900 \
        "$KIT_ROOT/harness/rect-cluster.sh" "$@"
    cd "$KIT_ROOT"
}

local_count() {
    run kit ch06-rectangles "$@" --workers 2
    assert_success
    grep -E '^  (positive|negative) ' <<<"$output"
}

@test "ssh: two logins, a work directory outside the kit: the merged count equals the local one" {
    needs_ssh
    local single
    single=$(local_count 5 7)
    RECT_JOBS=5 cluster 5 7 --ssh "$BATS_FILE_TMPDIR/ssh/ssh" --sshlogin 1/login-a,1/login-b
    assert_success
    assert_output --partial "all 40 tasks exactly once"
    assert_output --regexp "rect-cluster: verified: every task exactly once; 4 of 40 tasks re-run here"
    assert_equal "$(grep -E '^  (positive|negative) ' <<<"$output")" "$single"
    local log=$BATS_TEST_TMPDIR/work/out/ch06-cluster-5-7.joblog
    # both logins ran jobs, every job once and successfully
    [ "$(awk -F'\t' 'NR > 1 && $7 == 0' "$log" | wc -l)" = 5 ] || fail "joblog: $(cat "$log")"
    awk -F'\t' 'NR > 1 { print $2 }' "$log" | grep -qx login-a || fail "login-a ran nothing: $(cat "$log")"
    awk -F'\t' 'NR > 1 { print $2 }' "$log" | grep -qx login-b || fail "login-b ran nothing: $(cat "$log")"
}

@test "ssh: a job killed mid-run is retried and the count is still exact" {
    needs_ssh
    # job 2 writes half a row and is killed by SIGKILL on its first attempt only
    cat >"$BATS_TEST_TMPDIR/killed" <<EOS
#!/bin/sh
case "\$*" in *"--task 2/"*)
    if [ ! -e "$BATS_TEST_TMPDIR/killed-once" ]; then
        touch "$BATS_TEST_TMPDIR/killed-once"; printf '1\t24\tcycle-type\t4'; kill -KILL \$\$
    fi ;;
esac
exec "$KIT_BUILD/ch06-rectangles" "\$@"
EOS
    chmod +x "$BATS_TEST_TMPDIR/killed"
    RECT_PROGRAM="$BATS_TEST_TMPDIR/killed" RECT_JOBS=4 \
        cluster 4 6 --ssh "$BATS_FILE_TMPDIR/ssh/ssh" --sshlogin 1/login-a,1/login-b
    assert_success
    [ -e "$BATS_TEST_TMPDIR/killed-once" ] || fail "job 2 was never killed"
    assert_output --partial "all 24 tasks exactly once"
    assert_line --regexp '^  positive +203,040$'
    assert_line --regexp '^  negative +190,080$'
    assert_output --partial "rect-cluster: verified: "
}

@test "ssh: a login that refuses connections: its jobs are retried on the other login" {
    needs_ssh
    local single
    single=$(local_count 5 7)
    RECT_JOBS=6 RECT_RETRIES=3 cluster 5 7 --ssh "$BATS_FILE_TMPDIR/ssh/ssh" \
        --sshlogin 1/login-dead,1/login-a
    assert_success
    assert_output --partial "all 40 tasks exactly once"
    assert_equal "$(grep -E '^  (positive|negative) ' <<<"$output")" "$single"
    local log=$BATS_TEST_TMPDIR/work/out/ch06-cluster-5-7.joblog
    # every job ended well, and only on the login that works
    [ "$(awk -F'\t' 'NR > 1 && $7 == 0 && $2 == "login-a"' "$log" | wc -l)" = 6 ] ||
        fail "joblog: $(cat "$log")"
}

@test "ssh: a rerun with --resume-failed runs only the jobs that did not finish" {
    needs_ssh
    # first run: job 3 always fails, so the run fails and leaves the others' results
    cat >"$BATS_TEST_TMPDIR/fails3" <<EOS
#!/bin/sh
case "\$*" in *"--task 3/"*) exit 1 ;; esac
exec "$KIT_BUILD/ch06-rectangles" "\$@"
EOS
    # second run: records which jobs it ran
    cat >"$BATS_TEST_TMPDIR/records" <<EOS
#!/bin/sh
echo "\$*" | sed 's/.*--task \([0-9]*\)\/.*/\1/' >>"$BATS_TEST_TMPDIR/rerun"
exec "$KIT_BUILD/ch06-rectangles" "\$@"
EOS
    chmod +x "$BATS_TEST_TMPDIR/fails3" "$BATS_TEST_TMPDIR/records"
    local ssh=(--ssh "$BATS_FILE_TMPDIR/ssh/ssh" --sshlogin 1/login-a,1/login-b)
    RECT_PROGRAM="$BATS_TEST_TMPDIR/fails3" RECT_JOBS=5 RECT_RETRIES=2 cluster 5 7 "${ssh[@]}"
    assert_failure 1
    assert_output --partial "rerun with --resume-failed"
    local dir=$BATS_TEST_TMPDIR/work/out/ch06-cluster-5-7 missing k
    [ ! -e "$dir/job-3.tsv" ] || fail "the failed job left a result file"
    missing=$(for k in 1 2 3 4 5; do [ -e "$dir/job-$k.tsv" ] || echo "$k"; done)
    RECT_PROGRAM="$BATS_TEST_TMPDIR/records" RECT_JOBS=5 cluster 5 7 "${ssh[@]}" --resume-failed
    assert_success
    assert_output --partial "all 40 tasks exactly once"
    assert_output --partial "positive and negative match the known values"
    # the rerun ran exactly the jobs without a result (the local sample check does not record)
    assert_equal "$(sort -n "$BATS_TEST_TMPDIR/rerun")" "$missing"
}

# a finished local run whose result files are then damaged by hand; the rerun merges them again
damaged_by_hand() {
    RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 run timeout 120 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j2
    assert_success
    dir=$BATS_TEST_TMPDIR/ch06-cluster-4-6
}

remerge() {
    RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 run timeout 120 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 \
        -j2 --resume-failed
}

@test "merge: a result file cut short is refused with a line naming the task" {
    requires command parallel
    local dir last
    damaged_by_hand
    last=$(tail -1 "$dir/job-2.tsv" | cut -f1)
    truncate -s -12 "$dir/job-2.tsv"
    remerge
    assert_failure 1
    assert_output --regexp "job-2.tsv:[0-9]+: task $last: the row is cut short or damaged"
    refute_output --partial "verified"
}

@test "merge: a row duplicated by hand is refused with a line naming the task" {
    requires command parallel
    local dir last
    damaged_by_hand
    last=$(tail -1 "$dir/job-2.tsv" | cut -f1)
    tail -1 "$dir/job-2.tsv" >>"$dir/job-2.tsv"
    remerge
    assert_failure 1
    assert_output --regexp "task $last appears twice \(.*job-2.tsv:[0-9]+ and .*job-2.tsv:[0-9]+\)"
    refute_output --partial "verified"
}

@test "merge: a result file missing is named, with how to resume" {
    requires command parallel
    local dir
    damaged_by_hand
    rm "$dir/job-3.tsv"
    remerge
    assert_failure 1
    assert_output --partial "job 3 of 3 has no result file"
}

# a job program that swaps task 3's positive and negative counts: the total stays right
swapping_program() {
    cat >"$BATS_TEST_TMPDIR/swaps" <<EOS
#!/bin/sh
"$KIT_BUILD/ch06-rectangles" "\$@" | awk -F'\t' -v OFS='\t' '\$1 == 3 { t = \$8; \$8 = \$9; \$9 = t } 1'
EOS
    chmod +x "$BATS_TEST_TMPDIR/swaps"
}

@test "a wrong row cannot pass as verified: re-running every task catches a swapped row" {
    requires command parallel
    swapping_program
    RECT_PROGRAM="$BATS_TEST_TMPDIR/swaps" RECT_SAMPLE=all RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 \
        run timeout 120 "$KIT_ROOT/harness/rect-cluster.sh" 4 8 -j2
    assert_failure 1
    assert_output --regexp "re-running 105 of 105 tasks here \(RECT_SEED=[0-9]+\)"
    assert_output --partial "task 3: the job's row differs from a run here"
    assert_output --partial "verification failed: task 3's row is wrong"
    refute_output --partial "verified"
}

@test "without a re-run the same wrong row is not called verified" {
    requires command parallel
    swapping_program
    RECT_PROGRAM="$BATS_TEST_TMPDIR/swaps" RECT_SAMPLE=0 RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 \
        run timeout 120 "$KIT_ROOT/harness/rect-cluster.sh" 4 8 -j2
    assert_success
    assert_output --partial "no task re-run (RECT_SAMPLE=0, RECT_REDUNDANCY=1), so a wrong row would pass"
    refute_output --partial "verified"
}

@test "the sample is a tenth of the tasks by default and repeats with its seed" {
    requires command parallel
    RECT_SEED=12345 RECT_OUT="$BATS_TEST_TMPDIR" RECT_JOBS=3 \
        run timeout 120 "$KIT_ROOT/harness/rect-cluster.sh" 4 8 -j2
    assert_success
    assert_output --partial "re-running 11 of 105 tasks here (RECT_SEED=12345)"
    assert_output --partial "rect-cluster: verified: every task exactly once; 11 of 105 tasks re-run here, identical (RECT_SEED=12345)"
}

# a job program that swaps the positive and negative counts of every row it prints on login-b:
# the total stays right, so the merge alone would accept it (see the test without a re-run)
corrupting_login_b() {
    cat >"$BATS_TEST_TMPDIR/corrupts" <<EOS
#!/bin/sh
[ "\$PARALLEL_SSHLOGIN" = login-b ] || exec "$KIT_BUILD/ch06-rectangles" "\$@"
"$KIT_BUILD/ch06-rectangles" "\$@" |
    awk -F'\t' -v OFS='\t' '\$1 ~ /^[0-9]+\$/ { t = \$8; \$8 = \$9; \$9 = t } 1'
EOS
    chmod +x "$BATS_TEST_TMPDIR/corrupts"
}

@test "ssh: redundancy 2 runs every job on both logins and says so" {
    needs_ssh
    RECT_REDUNDANCY=2 RECT_SAMPLE=0 RECT_JOBS=4 \
        cluster 4 8 --ssh "$BATS_FILE_TMPDIR/ssh/ssh" --sshlogin 1/login-a,1/login-b
    assert_success
    assert_output --partial "rect-cluster: verified: every task exactly once; every task run twice, on two different logins, identical rows"
    local out=$BATS_TEST_TMPDIR/work/out
    # each job succeeded once in each log, on two different logins
    run join -t $'\t' <(awk -F'\t' 'NR > 1 && $7 == 0 { print $1 "\t" $2 }' "$out/ch06-cluster-4-8.joblog" | sort) \
        <(awk -F'\t' 'NR > 1 && $7 == 0 { print $1 "\t" $2 }' "$out/ch06-cluster-4-8.twin.joblog" | sort)
    [ "$(wc -l <<<"$output")" = 4 ] || fail "joined job logs: $output"
    [ "$(awk -F'\t' '$2 != $3' <<<"$output" | wc -l)" = 4 ] || fail "a job ran twice on one login: $output"
}

@test "ssh: redundancy 2 catches a login that corrupts its rows, where the merge alone cannot" {
    needs_ssh
    corrupting_login_b
    RECT_PROGRAM="$BATS_TEST_TMPDIR/corrupts" RECT_REDUNDANCY=2 RECT_SAMPLE=0 RECT_JOBS=4 \
        cluster 4 8 --ssh "$BATS_FILE_TMPDIR/ssh/ssh" --sshlogin 1/login-a,1/login-b
    assert_failure 1
    assert_output --regexp "task [0-9]+: its two runs differ \(job [0-9], logins login-[ab] and login-[ab]\)"
    assert_output --regexp "verification failed: task [0-9]+'s two runs disagree"
    refute_output --partial "verified"
}

@test "RECT_REDUNDANCY=2 needs two logins, and is 1 or 2" {
    RECT_REDUNDANCY=2 run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 -j2
    assert_failure 2
    assert_output --partial "RECT_REDUNDANCY=2 runs every task on two different logins: name two or more with --sshlogin (found 0)"
    RECT_REDUNDANCY=2 run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6 --sshlogin 2/host1
    assert_failure 2
    assert_output --partial "(found 1)"
    RECT_REDUNDANCY=3 run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6
    assert_failure 2
    assert_output --partial "RECT_REDUNDANCY must be 1 or 2"
}

@test "RECT_SAMPLE and RECT_SEED must be whole numbers" {
    RECT_SAMPLE=some run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6
    assert_failure 2
    assert_output --partial "RECT_SAMPLE must be"
    RECT_SEED=-1 run timeout 10 "$KIT_ROOT/harness/rect-cluster.sh" 4 6
    assert_failure 2
}
