# test_helper.bash - loaded by every test file: `load test_helper`.
#
#   KIT_ROOT, KIT_BUILD         the kit and the build directory under test (build/ or build/sanitize/)
#   requires WHAT [ARG]         skip with a reason: cpus N | command NAME | gnuplot
#   kit PROG ARGS...            run build/PROG under coreutils timeout (bats 1.8.2 does not kill it)
#   need_program PROG           fail setup clearly when PROG was not built
#   quick_run_once PROG ARGS    in setup_file: one PROG --quick ARGS run for the whole file (see below)
#   start_in_session PROG ARGS  start PROG in its own session (KIT_PID); output in $BATS_TEST_TMPDIR
#   wait_for_output TEXT [S]    wait until PROG's stdout or stderr shows TEXT
#   teardown                    kills whatever a failed test left running in its session
#   wait_kit [S]                wait for PROG to end; KIT_STATUS = exit status (128+N for signal N)
#   assert_session_empty PID    no process is left in the session PROG started
#   interrupt_mid_run SIG TEXT PROG ARGS  PROG gets SIG once TEXT shows; it must die of SIG promptly,
#                               say it cleaned up, and leave no process behind
#   ipc_snapshot PREFIX         the /dev/shm, /dev/mqueue and /tmp entries named PREFIX*, and SysV ids
#                               (entries of kit runs still running elsewhere left out)
#   usage_error PROG ARGS...    PROG ARGS is rejected: exit 2, one line naming PROG, the usage, nothing run or written
#   assert_tsv FILE...          harness/check-tsv.sh passes
#   assert_tsv_files DIR chNN E...  DIR holds exactly chNN-E.tsv for each E, each in the kit's format
#   assert_plots_render NN DIR  every plots/chNN-*.gp draws a non-empty SVG (white background) and PNG
#   assert_white_background SVG the figure paints an opaque white background
#   assert_no_data_left DIR     DIR is empty (a program's private temporary files are gone)
#   forked_children_of PID      PID's children made by fork(), never the sanitizer's tracer
#   kill_while_computing PID    SIGKILL PID at a moment it is computing, not waiting in a system call
#   path_without NAME...        a directory of links to every command on $PATH but python* and the
#                               NAMEs (echoed; a stand-in can be added to it), for the peers tests
bats_load_library bats-support
bats_load_library bats-assert

KIT_ROOT="$(cd "$(dirname "$BATS_TEST_FILENAME")/.." && pwd)"
KIT_BUILD="${KIT_BUILD:-$KIT_ROOT/build}"
export PARALLEL=--will-cite

requires() {
    case "$1" in
    cpus) [ "$(nproc)" -ge "$2" ] || skip "needs $2 CPUs, this machine has $(nproc)" ;;
    command) command -v "$2" >/dev/null || skip "$2 is not installed" ;;
    gnuplot) command -v gnuplot >/dev/null || skip "gnuplot is not installed (make deps)" ;;
    *) fail "requires: unknown requirement '$1'" ;;
    esac
}

need_program() {
    [ -x "$KIT_BUILD/$1" ] || {
        echo "# $KIT_BUILD/$1 is not built: run make (or make test) first" >&3
        return 1
    }
}

# One --quick run shared by every test of a file, in its own session so that its processes
# can be counted afterwards: QUICK is its --out directory, and $BATS_FILE_TMPDIR holds its
# out, err, status (exit status) and sid (session id = its pid).
quick_run_once() {
    local prog=$1 pid status=0
    shift
    need_program "$prog"
    export QUICK="$BATS_FILE_TMPDIR/quick"
    setsid timeout 60 "$KIT_BUILD/$prog" --quick --out "$QUICK" "$@" \
        >"$BATS_FILE_TMPDIR/out" 2>"$BATS_FILE_TMPDIR/err" 3>&- &
    pid=$!
    wait "$pid" || status=$?
    echo "$status" >"$BATS_FILE_TMPDIR/status"
    echo "$pid" >"$BATS_FILE_TMPDIR/sid"
}

kit() {
    local prog=$1
    shift
    timeout --kill-after=5 "${KIT_TEST_TIMEOUT:-120}" "$KIT_BUILD/$prog" "$@"
}

start_in_session() {
    local prog=$1
    shift
    # setsid makes PROG a session leader, so its session id is its pid: every process
    # it starts can be found (pgrep -s) even after it is reparented. fd 3 closed: bats waits on it.
    setsid "$KIT_BUILD/$prog" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    KIT_PID=$!
}

# After every test: a program a failed test left running (start_in_session) is killed with
# everything it started, so one failure cannot load the machine for the tests after it.
# A test file that needs its own teardown calls kill_session_left_running from it.
kill_session_left_running() {
    [ -z "${KIT_PID:-}" ] || pkill -KILL -s "$KIT_PID" 2>/dev/null || true
}
teardown() { kill_session_left_running; }

wait_for_output() {
    local text=$1 seconds=${2:-20} i
    for ((i = 0; i < seconds * 20; i++)); do
        grep -qF -- "$text" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" 2>/dev/null && return 0
        kill -0 "$KIT_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "# '$text' did not appear; stdout:" >&3
    sed 's/^/#   /' "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&3
    return 1
}

wait_kit() {
    local seconds=${1:-20} i
    for ((i = 0; i < seconds * 20; i++)); do
        kill -0 "$KIT_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$KIT_PID" 2>/dev/null; then
        pkill -KILL -s "$KIT_PID" || true
        wait "$KIT_PID" || true
        fail "still running after $seconds s (killed)"
    fi
    KIT_STATUS=0
    wait "$KIT_PID" || KIT_STATUS=$?
}

# A worker between two tasks waits in read() for the next one; under load that wait can be long
# enough for a kill at a chosen time to land in it. So the worker is stopped first and
# /proc/PID/syscall says where: "-1 ..." is user code (computing), anything else is the number
# of the system call it waits in. Only a worker caught computing is killed; otherwise it is
# continued and looked at again.
kill_while_computing() {
    local pid=$1 i j stat state syscall
    for ((i = 0; i < 200; i++)); do
        kill -STOP "$pid" 2>/dev/null || return 1
        for ((j = 0; j < 100; j++)); do
            read -r stat <"/proc/$pid/stat" 2>/dev/null || return 1
            state=${stat##*) }          # field 3, after the command name in parentheses
            state=${state%% *}
            [[ $state == [ZX] ]] && return 1    # it has ended: nothing left to catch
            [[ $state == [Tt] ]] && break
            sleep 0.01
        done
        read -r syscall _ <"/proc/$pid/syscall" || return 1
        if [[ $state == [Tt] && $syscall == -1 ]]; then
            kill -KILL "$pid"
            return 0
        fi
        kill -CONT "$pid"
        sleep 0.02
    done
    return 1
}

assert_session_empty() {
    local sid=$1 left i
    # a killed child takes a moment to be reaped by init after its parent is gone
    for ((i = 0; i < 40; i++)); do
        left=$(pgrep -s "$sid" || true)
        [ -z "$left" ] && return 0
        sleep 0.05
    done
    fail "processes left in session $sid: $(ps -o pid,stat,comm -p "$(echo $left | tr ' ' ,)" | tail -n +2 | tr '\n' ';')"
}

interrupt_mid_run() {
    local sig=$1 text=$2
    shift 2
    start_in_session "$@"
    wait_for_output "$text"
    sleep 0.3
    kill -"$sig" "$KIT_PID"
    wait_kit 10
    assert_equal "$KIT_STATUS" $((128 + $(kill -l "$sig")))
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output --regexp "stopped by [A-Za-z ]+; cleaned up"
    assert_session_empty "$KIT_PID"
}

# Objects are named PREFIX-PID-...: one whose process still runs belongs to another run of the
# kit on this machine (another suite, another student) and is left out, so that a snapshot
# taken beside them changes only by what ended runs left behind.
ipc_snapshot() {
    local prefix=$1 entry pid
    ls -1 /dev/shm /dev/mqueue "${TMPDIR:-/tmp}" 2>/dev/null | grep -- "^$prefix" | sort |
        while read -r entry; do
            pid=${entry#"$prefix"}
            pid=${pid#-}
            pid=${pid%%[!0-9]*}
            [ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
            echo "$entry"
        done
    ipcs -m -s -q 2>/dev/null | awk '$2 ~ /^[0-9]+$/ { print "sysv", $2 }' | sort || true
}

usage_error() {
    local prog=$1
    shift
    run kit "$prog" --out "$BATS_TEST_TMPDIR/bad" "$@"
    assert_failure 2
    assert_line --index 0 --regexp "^$prog: "
    assert_output --partial "Usage: $prog"
    refute_line --regexp '^mode='   # the run header: no experiment started
    [ ! -e "$BATS_TEST_TMPDIR/bad" ] || [ -z "$(ls -A "$BATS_TEST_TMPDIR/bad")" ] || fail "wrote files before failing"
}

assert_tsv() {
    run "$KIT_ROOT/harness/check-tsv.sh" "$@"
    assert_success
}

assert_tsv_files() {
    local dir=$1 prefix=$2 e expected=()
    shift 2
    for e in "$@"; do
        [ -f "$dir/$prefix-$e.tsv" ] || fail "missing $prefix-$e.tsv"
        expected+=("$prefix-$e.tsv")
    done
    assert_tsv "${expected[@]/#/$dir/}"
    run ls "$dir"
    assert_equal "$(echo $output)" "$(printf '%s\n' "${expected[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
}

# An SVG from plots/style.gp paints an opaque white background first: on a dark page a
# transparent figure's black text would vanish.
assert_white_background() {
    grep -qE '^<rect x="0" y="0" width="[0-9]+" height="[0-9]+" fill="#ffffff"/>$' "$1" ||
        fail "$1 has no white background (plots/style.gp sets it)"
}

assert_plots_render() {
    local nn=$1 data=$2 out="$BATS_TEST_TMPDIR/plots" script name
    local scripts=("$KIT_ROOT"/plots/ch"$nn"-*.gp)
    [ -e "${scripts[0]}" ] || fail "no plots/ch$nn-*.gp"
    run "$KIT_ROOT/harness/plot.sh" --data "$data" --out "$out" "${scripts[@]}"
    assert_success
    for script in "${scripts[@]}"; do
        name=$(basename "$script" .gp)
        [ -s "$out/$name.svg" ] || fail "$name.svg is missing or empty"
        grep -q '<svg' "$out/$name.svg" || fail "$name.svg is not SVG"
        assert_white_background "$out/$name.svg"
        [ "$(head -c 4 "$out/$name.png" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "$name.png is not a PNG"
    done
}

# (no `run` here: the caller's $output and $lines stay as they were)
assert_no_data_left() {
    local left
    left=$(ls -A "$1")
    [ -z "$left" ] || fail "left behind in $1: $left"
}

# PID's children made by fork(): exit signal SIGCHLD (field 38 of /proc/PID/stat). The sanitizer
# build's leak check clones a tracer at exit (exit signal 0) and, if that tracer is killed, spins
# forever waiting for it: killing every child hung a program after it had reported.
# Shell builtins only, so that a short-lived worker is still there when the kill comes.
forked_children_of() {
    local pid stat chld=17
    for pid in $(pgrep -P "$1"); do
        read -r stat <"/proc/$pid/stat" 2>/dev/null || continue
        set -- ${stat##*) }         # from field 3 (state) on: field 38 is $36
        [ "${36:-}" != "$chld" ] || echo "$pid"
    done
}

# The loop runs in a child bash: under bats' DEBUG trap its some 3000 steps took 5 s, and one
# ln per command 11 s more; a plain bash and one ln take a tenth of a second.
path_without() {
    local bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    bash -c '
        bin=$1 && shift
        declare -A linked=()
        targets=()
        IFS=: read -ra dirs <<<"$PATH"
        for dir in "${dirs[@]}"; do
            for f in "$dir"/*; do
                name=${f##*/} skip=0
                case "$name" in python*) skip=1 ;; esac
                for n in "$@"; do [ "$name" = "$n" ] && skip=1; done
                # the first executable of each name on $PATH, the one command -v finds
                if [ "$skip" = 0 ] && [ -x "$f" ] && [ -z "${linked[$name]:-}" ]; then
                    linked[$name]=1
                    targets+=("$f")
                fi
            done
        done
        [ ${#targets[@]} -eq 0 ] || ln -s -t "$bin" -- "${targets[@]}"' path_without "$bin" "$@" ||
        fail "path_without: the links were not made"
    (PATH=$bin; ! command -v python3 >/dev/null) || fail "python3 is still on the test's PATH"
    echo "$bin"
}
