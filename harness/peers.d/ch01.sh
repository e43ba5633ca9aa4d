# ch01.sh - chapter 1's peers, sourced by harness/peers.sh (which defines have, peer_row,
# median_of, $build and $tmp). One ch01-fork --only methods run, then, one after the other:
#   stress-ng --fork 1 --fork-max 1   fork + exit + wait in a loop, beside the kit's fork row and
#                                     beside the kit's copy of stress-ng's loop (ch01-fork --only
#                                     stress-ng), run as it is and with stress-ng's shared
#                                     libraries preloaded, in CH01_PEER_ROUNDS rounds (default 15):
#                                     what each ingredient adds, per fork;
#                                     with strace installed, what its child and parent do besides
#   hyperfine -N /bin/true            start a program and wait for it (no shell), beside the
#                                     kit's posix_spawn and fork+exec rows (which alternate
#                                     /bin/true and /bin/false); with strace, which call each
#                                     uses to start /bin/true
#   python3 spawn.py --only methods   os.fork and multiprocessing.Process(fork) beside the kit's
#                                     fork, subprocess.run beside posix_spawn
# CH01_PEER_TRIALS (default 15) sets the kit's trials; CH01_PEER_RUNS (default 200) hyperfine's.

ch1_median() {   # stdin: numbers, one a line; prints their median
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

ch1_tsv() {   # ch1_tsv TSV VARIANT COLUMN: one number of the kit's table (5 median, 8 mean)
    awk -F'\t' -v v="$2" -v c="$3" '$1 == v { print $c; exit }' "$1"
}

# The kit's copy of stress-ng's loop (ch01-fork --only stress-ng) runs three ways a round:
#   built  as the Makefile links it: a child's first call of a library function (_exit, setsid,
#          ...) goes through the dynamic linker (lazy binding)
#   now    LD_BIND_NOW=1: every symbol resolved at start, as in stress-ng (linked with -z now)
#   libs   LD_BIND_NOW=1 and stress-ng's shared libraries preloaded: its worker's mappings
ch1_kit_run() {   # ch1_kit_run NAME DIR LIBS
    local env=()
    case $1 in
        now) env=(LD_BIND_NOW=1) ;;
        libs) env=(LD_BIND_NOW=1 "LD_PRELOAD=$3") ;;
    esac
    env "${env[@]}" "$build/ch01-fork" --quick --only stress-ng --trials 1 --out "$2" >"$2.txt" 2>&1 ||
        { echo "peers: ch01-fork --only stress-ng ($1) failed:" >&2; cat "$2.txt" >&2; return 1; }
}

ch1_stress_worker() {   # ch1_stress_worker PID: stress-ng's worker's mappings and anonymous memory
    local worker n a
    sleep 0.5
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        for worker in $(pgrep -P "$1" || true); do
            n=$(wc -l <"/proc/$worker/maps" 2>/dev/null) &&
                a=$(awk '$1 == "Anonymous:" { print $2 }' "/proc/$worker/smaps_rollup" 2>/dev/null) &&
                [ -n "$n" ] && [ -n "$a" ] && { echo "$n mappings, $a KiB anonymous"; return 0; }
        done
        sleep 0.1
    done
}

# One round; prints 38 numbers: for each kit run (built, now, libs) plain like plain_mean
# like_mean cpu_plain cpu_like faults_plain faults_like; for each extra recipe of the built run
# (setsid+vhangup sched_yield child-calls parent-table) its median minus plain's in wall, CPU and
# faults; stress-ng's wall and CPU time per fork.
ch1_round() {
    local i=$1 libs=$2 run f v s
    s=$tmp/stress$i.txt
    for run in built now libs; do
        [ "$run" = libs ] && [ -z "$libs" ] && continue
        ch1_kit_run "$run" "$tmp/ch1-$run$i" "$libs" || return 1
    done
    stress-ng --fork 1 --fork-max 1 --timeout 1s --metrics-brief >"$s" 2>&1 &
    local stress=$!
    [ "$i" = 1 ] && ch1_stress_worker "$stress" >"$tmp/stress-maps.txt"
    wait "$stress" || true
    for run in built now libs; do
        f=$tmp/ch1-$run$i/ch01-stress-ng.tsv
        [ -f "$f" ] || f=$tmp/ch1-now$i/ch01-stress-ng.tsv   # no libraries: "now" twice
        for v in plain:5 stress-ng-like:5 plain:8 stress-ng-like:8 cpu:plain:5 cpu:stress-ng-like:5 \
            faults:plain:5 faults:stress-ng-like:5; do
            printf '%s ' "$(ch1_tsv "$f" "${v%:*}" "${v##*:}")"
        done
    done
    f=$tmp/ch1-built$i/ch01-stress-ng.tsv
    for v in setsid+vhangup sched_yield child-calls parent-table; do
        awk -v a="$(ch1_tsv "$f" "$v" 5)" -v b="$(ch1_tsv "$f" plain 5)" \
            -v ac="$(ch1_tsv "$f" "cpu:$v" 5)" -v bc="$(ch1_tsv "$f" cpu:plain 5)" \
            -v af="$(ch1_tsv "$f" "faults:$v" 5)" -v bf="$(ch1_tsv "$f" faults:plain 5)" \
            'BEGIN { printf "%.1f %.1f %.1f ", a - b, ac - bc, af - bf }'
    done
    # stress-ng's rates: forks per second of wall time, and per second of CPU (usr+sys of the
    # worker and its children)
    awk '$4 == "fork" && $9 > 0 && $10 > 0 { printf "%.1f %.1f\n", 1e6 / $9, 1e6 / $10 }' "$s"
}

ch1_stress_faults() {   # stress-ng's page faults per fork: 400 forks minus 100, with GNU time;
    # then its worker's share of them (its own faults against its reaped children's, in /proc
    # over 1.5 s of a run): "total worker children", or "-" without GNU time
    [ -x /usr/bin/time ] || { echo -; return 0; }
    local n f=() stress worker a="" b=""
    for n in 100 400; do
        f+=("$(/usr/bin/time -f 'minflt=%R' stress-ng --fork 1 --fork-max 1 --fork-ops "$n" \
            --timeout 60s 2>&1 | sed -n 's/^minflt=//p')")
    done
    stress-ng --fork 1 --fork-max 1 --timeout 3s >/dev/null 2>&1 &
    stress=$!
    sleep 0.8
    worker=$(pgrep -P "$stress" | head -1 || true)
    if [ -n "$worker" ]; then
        a=$(awk '{ print $10, $11 }' "/proc/$worker/stat" 2>/dev/null || true)
        sleep 1.5
        b=$(awk '{ print $10, $11 }' "/proc/$worker/stat" 2>/dev/null || true)
    fi
    wait "$stress" || true
    awk -v x="${f[0]}" -v y="${f[1]}" -v a="$a" -v b="$b" 'BEGIN {
        if (x == "" || y == "") { print "-"; exit }
        t = (y - x) / 300
        if (split(a, p, " ") == 2 && split(b, q, " ") == 2 && q[1] + q[2] > p[1] + p[2]) {
            w = t * (q[1] - p[1]) / (q[1] - p[1] + q[2] - p[2])
            printf "%.0f %.1f %.1f\n", t, w, t - w
        } else printf "%.0f\n", t }'
}

# stress-ng's child renames itself before it exits: prctl(PR_SET_NAME) and libbsd's
# setproctitle, which writes the new title over the process's argv memory (no system call, so
# strace does not show it). --keep-name skips both. Five pairs of one-second runs, alternating,
# and the faults per fork of each (400 forks minus 100, with GNU time).
ch1_stress_naming() {
    local k opt rate f
    for k in 1 2 3 4 5; do
        for opt in "" --keep-name; do
            stress-ng $opt --fork 1 --fork-max 1 --timeout 1s --metrics-brief 2>&1 |
                awk -v o="${opt:-named}" '$4 == "fork" && $9 > 0 && $10 > 0 { printf "%s %.1f %.1f\n", o, 1e6 / $9, 1e6 / $10 }'
        done
    done >"$tmp/stress-naming.txt"
    for opt in named --keep-name; do
        rate=$(awk -v o="$opt" '$1 == o { print $2 }' "$tmp/stress-naming.txt" | ch1_median)
        local cpu
        cpu=$(awk -v o="$opt" '$1 == o { print $3 }' "$tmp/stress-naming.txt" | ch1_median)
        f=-
        if [ -x /usr/bin/time ]; then
            local x y o=()
            [ "$opt" = --keep-name ] && o=(--keep-name)
            x=$(/usr/bin/time -f 'minflt=%R' stress-ng "${o[@]}" --fork 1 --fork-max 1 --fork-ops 100 \
                --timeout 60s 2>&1 | sed -n 's/^minflt=//p')
            y=$(/usr/bin/time -f 'minflt=%R' stress-ng "${o[@]}" --fork 1 --fork-max 1 --fork-ops 400 \
                --timeout 60s 2>&1 | sed -n 's/^minflt=//p')
            [ -n "$x" ] && [ -n "$y" ] && f=$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.1f", (y - x) / 300 }')
        fi
        printf '  %-58s %9s %9s %9s %7s\n' "stress-ng ${opt/named/(names its child)}, 5 runs of 1 s" - \
            "${rate:--}" "${cpu:--}" "$f"
    done
}

ch1_stress_table() {   # the medians of the rounds, as a table
    local ours=$1 their_faults=$2 maps=$3 libs=$4 kit_maps=$5 lib_maps=$6
    shift 6
    local m=("$@")
    echo "  us per fork, medians of the rounds (mean = wall time / forks, how stress-ng counts;"
    echo "  CPU = parent's + children's usr+sys; faults = their minor page faults, per fork):"
    printf '  %-58s %9s %9s %9s %7s\n' "" median "mean" CPU faults \
        "ch01-fork methods/fork (--trials ${CH01_PEER_TRIALS:-15})" "$ours" - - - \
        "ch01-fork plain, as built (lazy binding)" "${m[0]}" "${m[2]}" "${m[4]}" "${m[6]}" \
        "ch01-fork stress-ng-like, as built" "${m[1]}" "${m[3]}" "${m[5]}" "${m[7]}" \
        "ch01-fork plain, LD_BIND_NOW=1 (stress-ng: -z now)" "${m[8]}" "${m[10]}" "${m[12]}" "${m[14]}" \
        "ch01-fork stress-ng-like, LD_BIND_NOW=1" "${m[9]}" "${m[11]}" "${m[13]}" "${m[15]}"
    [ -n "$libs" ] && printf '  %-58s %9s %9s %9s %7s\n' \
        "ch01-fork plain, LD_BIND_NOW=1 + stress-ng's libraries" "${m[16]}" "${m[18]}" "${m[20]}" "${m[22]}" \
        "ch01-fork stress-ng-like, LD_BIND_NOW=1 + its libraries" "${m[17]}" "${m[19]}" "${m[21]}" "${m[23]}"
    printf '  %-58s %9s %9s %9s %7s\n' "stress-ng --fork 1 --fork-max 1" - "${m[36]}" "${m[37]}" "${their_faults%% *}"
    local split matched=now
    [ -z "$libs" ] || matched=libs
    split=$(sed -n 's/^  faults:stress-ng-like .*parent \([0-9.]*\) + child \([0-9.]*\) (means)$/\1 + \2/p' \
        "$tmp/ch1-${matched}1.txt")
    [[ $their_faults == *" "* ]] && awk -v f="$their_faults" -v k="$split" 'BEGIN { split(f, x, " ")
        printf "  faults per fork, forking process + child: stress-ng %.1f + %.1f (its worker'"'"'s share in /proc);\n", x[2], x[3]
        printf "   the kit'"'"'s matched run %s (round 1)\n", k }'
    echo "  the forking process: ch01-fork $kit_maps${lib_maps:+; with the libraries $lib_maps};"
    echo "  stress-ng's worker $maps"
}

ch1_stress_attribution() {   # what each ingredient adds, and what is left
    local libs=$1 their_faults=$2 methods=$3
    shift 3
    local m=("$@")
    echo "  what each ingredient adds per fork, wall / CPU us / faults (medians of the rounds):"
    # stress-ng counts forks / wall time: the mean of equal trials, where the kit reports the
    # median; the methods run's fork row has both
    awk -F'\t' '$1 == "fork" { printf "   %-44s %+7.0f  (methods/fork: mean %.0f, median %.0f)\n",
        "counting as stress-ng does (mean - median)", $8 - $5, $8, $5 }' "$methods"
    awk -v libs="$libs" -v tf="$their_faults" -v list="${m[*]}" 'BEGIN {
        n = split(list, m, " ")   # m[1] is the first median
        t = m[37]; tc = m[38]
        split("setsid+vhangup sched_yield child-calls parent-table", name, " ")
        for (q = 0; q < 4; q++)
            printf "   %-44s %+7.0f / %+6.0f / %+4.0f\n", name[q + 1] " minus plain (as built)", m[25 + 3 * q], m[26 + 3 * q], m[27 + 3 * q]
        printf "   %-44s %+7.0f / %+6.0f / %+4.0f\n", "lazy binding in each child (built - now)", m[1] - m[9], m[5] - m[13], m[7] - m[15]
        if (libs != "") {
            printf "   %-44s %+7.0f / %+6.0f / %+4.0f\n", "stress-ng'"'"'s libraries (bind-now plain)", m[17] - m[9], m[21] - m[13], m[23] - m[15]
            printf "   %-44s %+7.0f / %+6.0f / %+4.0f\n", "all the extras on top of them", m[18] - m[17], m[22] - m[21], m[24] - m[23]
            printf "   %-44s %+7.0f / %+6.0f", "left: stress-ng minus that matched run", t - m[20], tc - m[22]
            if (tf != "-") printf " / %+4.0f", tf - m[24]
            printf "\n  ratio stress-ng / the matched run (stress-ng-like, bind-now, its libraries): wall (mean) %.2f, CPU %.2f", t / m[20], tc / m[22]
            if (tf != "-") printf ", faults %.2f", tf / m[24]
            printf "\n"
        } }'
}

ch1_stress() {
    local ours=$1 methods=$2 rounds=${CH01_PEER_ROUNDS:-15} libs="" i maps="?" col lib_maps="" kit_maps their_faults
    have stress-ng stress-ng || return 0
    if ldd "$build/ch01-fork" | grep -q 'libasan\|libubsan'; then
        echo "  (a sanitizer build cannot preload stress-ng's libraries: that run is left out)"
    else
        libs=$(ldd "$(command -v stress-ng)" 2>/dev/null |
            awk '$3 ~ /^\// && $3 !~ /\/libc\.so/ { print $3 }' | paste -sd: || true)
    fi
    echo "  fork + _exit + wait: $rounds rounds of ch01-fork --quick --only stress-ng --trials 1 (as built,"
    echo "  LD_BIND_NOW=1, and LD_BIND_NOW=1 with stress-ng's libraries preloaded), then stress-ng --timeout 1s"
    : >"$tmp/ch1-rounds.txt"
    for ((i = 1; i <= rounds; i++)); do
        ch1_round "$i" "$libs" >>"$tmp/ch1-rounds.txt" || return 1
    done
    awk 'NF != 38' "$tmp/ch1-rounds.txt" | grep -q . &&
        { echo "peers: a round gave no numbers:"; cat "$tmp/ch1-rounds.txt" "$tmp"/stress*.txt; return 1; }
    their_faults=$(ch1_stress_faults)
    [ -s "$tmp/stress-maps.txt" ] && maps=$(cat "$tmp/stress-maps.txt")
    # round 1's tables stay beside peers.tsv (with --out): every recipe, wall, CPU and faults
    cp "$tmp/ch1-built1/ch01-stress-ng.tsv" "$tmp/ch01-stress-ng.tsv"
    [ -z "$libs" ] || cp "$tmp/ch1-libs1/ch01-stress-ng.tsv" "$tmp/ch01-stress-ng-libraries.tsv"
    local m=()   # the median over the rounds of each column
    for col in $(seq 1 38); do m+=("$(cut -d' ' -f"$col" "$tmp/ch1-rounds.txt" | ch1_median)"); done
    ch1_image() { sed -n 's/.*parent_mappings=\([0-9]*\).*parent_anon_kib=\([0-9-]*\).*/\1 mappings, \2 KiB anonymous/p' "$1"; }
    kit_maps=$(ch1_image "$tmp/ch1-built1/ch01-stress-ng.tsv")
    [ -z "$libs" ] || lib_maps=$(ch1_image "$tmp/ch1-libs1/ch01-stress-ng.tsv")
    ch1_stress_table "$ours" "$their_faults" "$maps" "$libs" "$kit_maps" "$lib_maps" "${m[@]}"
    # the comparison uses the rounds' plain fork (the same fork + _exit + waitpid as the methods
    # row, measured between stress-ng's runs), not the methods run from a minute before
    awk -v t="${m[36]}" -v p="${m[2]}" -v tc="${m[37]}" -v pc="${m[4]}" 'BEGIN {
        printf "  ratio stress-ng / ch01-fork plain (as built): wall %.2f, CPU %.2f\n", t / p, tc / pc }'
    ch1_stress_attribution "$libs" "${their_faults%% *}" "$methods" "${m[@]}"
    echo "  stress-ng's child renaming itself (prctl and setproctitle), us per fork, medians of the runs:"
    ch1_stress_naming
    peer_row 1 "fork + _exit + wait, us per process" "${m[2]}" "${m[36]}" "stress-ng --fork 1 --fork-max 1"
    [ -z "$libs" ] || peer_row 1 "fork + _exit + wait, us per process (kit: stress-ng-like, bind-now, its libraries; wall/forks)" \
        "${m[19]}" "${m[36]}" "stress-ng --fork 1 --fork-max 1"
    return 0
}

# What stress-ng's fork loop does besides fork, exit and wait, beside ch01-fork's, seen by strace
# (counts of system calls, not timings: strace slows every call). Only where strace is installed.
ch1_forked_children() {   # ch1_forked_children DIR PREFIX: children of the busiest forker, no exec
    local parent k
    parent=$(grep -c '^clone' "$1/$2".* | sort -t: -k2 -n | tail -1 | cut -d: -f1)
    for k in $(grep '^clone(' "$parent" | grep -v CLONE_VM | sed -n 's/.* = \([0-9][0-9]*\)$/\1/p'); do
        [ -f "$1/$2.$k" ] && ! grep -q '^execve' "$1/$2.$k" && echo "$1/$2.$k"
    done
    return 0
}

ch1_median_calls() {   # stdin: trace files; prints the median number of system calls in them
    while read -r f; do grep -cv '^+++\|^---' "$f"; done | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

ch1_stress_trace() {
    command -v strace >/dev/null && command -v stress-ng >/dev/null || return 0
    local d="$tmp/strace" theirs ours n signals names
    mkdir -p "$d"
    strace -f -ff -o "$d/s" stress-ng --fork 1 --fork-max 1 --timeout 2s >/dev/null 2>&1 || return 0
    strace -f -ff -o "$d/k" "$build/ch01-fork" --quick --only methods --trials 1 --out "$d/out" \
        >/dev/null 2>&1 || return 0
    theirs=$(ch1_forked_children "$d" s) ours=$(ch1_forked_children "$d" k)
    [ -n "$theirs" ] && [ -n "$ours" ] || return 0
    n=$(grep -c . <<<"$theirs")
    ch1_names() { grep -v '^+++\|^---' "$1" | sed 's/(.*//' | paste -sd' ' || true; }
    names=$(ch1_names "$(head -1 <<<"$theirs")")
    # a signal handler that ran returns through rt_sigreturn
    handled() { grep -c '^rt_sigreturn' "$(grep -c '^clone' "$d/$1".* | sort -t: -k2 -n | tail -1 | cut -d: -f1)" || true; }
    signals=$(handled s)
    echo "  under strace: a stress-ng fork child makes $(ch1_median_calls <<<"$theirs") system calls (median of $n):"
    echo "   $names;"
    echo "   a ch01-fork fork child $(ch1_median_calls <<<"$ours"): $(ch1_names "$(head -1 <<<"$ours")")."
    echo "   signal handlers run in the forking parent: stress-ng $signals (for $n children), ch01-fork $(handled k)."
}

ch1_hyperfine() {
    local methods=$1 runs=${CH01_PEER_RUNS:-200} theirs spawn exec
    have hyperfine hyperfine || return 0
    hyperfine -N --warmup 20 --runs "$runs" --style none --export-csv "$tmp/hyperfine.csv" /bin/true \
        >/dev/null 2>"$tmp/hyperfine.err" || { echo "peers: hyperfine failed:"; cat "$tmp/hyperfine.err"; return 1; }
    # its CSV: command,mean,stddev,median,user,system,min,max, in seconds
    theirs=$(awk -F, 'NR == 2 { printf "%.1f", $4 * 1e6 }' "$tmp/hyperfine.csv")
    spawn=$(median_of "$methods" posix_spawn) exec=$(median_of "$methods" fork+exec)
    [ -n "$theirs" ] && [ -n "$spawn" ] && [ -n "$exec" ] ||
        { echo "peers: could not read hyperfine's or the kit's medians"; return 1; }
    printf '  %-44s %10s us\n' "ch01-fork methods/posix_spawn (median)" "$spawn" \
        "ch01-fork methods/fork+exec (median)" "$exec" "hyperfine -N /bin/true (median of $runs)" "$theirs"
    awk -v h="$theirs" -v s="$spawn" -v e="$exec" \
        'BEGIN { printf "  ratio hyperfine / posix_spawn %.2f, hyperfine / fork+exec %.2f\n", h / s, h / e }'
    peer_row 1 "start /bin/true and wait, us (kit: posix_spawn)" "$spawn" "$theirs" "hyperfine -N /bin/true"
    peer_row 1 "start /bin/true and wait, us (kit: fork+exec)" "$exec" "$theirs" "hyperfine -N /bin/true"
}

ch1_start_calls() {   # ch1_start_calls TRACE: how each process that ran /bin/true was made, counted
    # (strace -f, one file: "PID call(...) = CHILD", or its "<unfinished ...>" and "resumed>" halves)
    awk '/execve\("\/bin\/true"/ { ran[$1] = 1 }
        / <unfinished \.\.\.>$/ { pending[$1] = $0; next }
        { line = $0 }
        /resumed>/ { line = pending[$1] " " $0 }
        line ~ /^[0-9]+ +(clone3?|vfork|fork)\(/ && line ~ /= [0-9]+$/ {
            call = line; sub(/^[0-9]+ +/, "", call); sub(/\(.*/, "", call)
            flags = ""
            if (match(line, /flags=[A-Z_|0-9]+/)) flags = " " substr(line, RSTART, RLENGTH)
            made[$NF] = call flags
        }
        END { for (c in ran) print (c in made ? made[c] : "(not seen)") }' "$1" |
        sort | uniq -c | awk '{ n = $1; $1 = ""; printf "%s%s (%d)", (NR > 1 ? "; " : ""), substr($0, 2), n }'
}

# Which call hyperfine -N uses to start its command, beside the kit's two rows that start
# /bin/true: posix_spawn (glibc: clone3 with CLONE_VM|CLONE_VFORK, no copy of the page tables)
# and fork+exec (a full copy first). The kind of call decides which row is its peer.
ch1_hyperfine_trace() {
    command -v strace >/dev/null && command -v hyperfine >/dev/null || return 0
    local d="$tmp/strace-start" theirs ours
    mkdir -p "$d"
    strace -f -o "$d/h" -e trace=clone,clone3,vfork,fork,execve hyperfine -N --runs 3 --warmup 0 \
        --style none /bin/true >/dev/null 2>&1 || return 0
    strace -f -o "$d/k" -e trace=clone,clone3,vfork,fork,execve "$build/ch01-fork" --quick \
        --only methods --trials 1 --out "$d/out" >/dev/null 2>&1 || return 0
    theirs=$(ch1_start_calls "$d/h") ours=$(ch1_start_calls "$d/k")
    [ -n "$theirs" ] && [ -n "$ours" ] || return 0
    echo "  under strace, the call that made each process running /bin/true (count):"
    echo "   hyperfine -N: $theirs"
    echo "   ch01-fork --only methods: $ours"
    if [[ $theirs == *CLONE_VFORK* && $theirs != *"; "* ]]; then
        echo "   hyperfine starts its command as posix_spawn does (no copy of the page tables):"
        echo "   its peer is the posix_spawn row; fork+exec pays a copy that hyperfine does not."
    fi
}

ch1_python() {
    local methods=$1 py="$tmp/ch01-python-methods.tsv" pair k p
    have python3 python3 || { echo "  (the Python side, chapters/01-fork/spawn.py, is skipped)"; return 0; }
    python3 chapters/01-fork/spawn.py --only methods --out "$tmp" >"$tmp/py1.txt" ||
        { echo "peers: spawn.py failed:"; cat "$tmp/py1.txt"; return 1; }
    printf '  %-44s %10s %10s\n' "us per process: C method / Python" C Python
    for pair in fork:os.fork fork:Process-fork fork:Process-forkserver fork:Process-spawn \
        posix_spawn:subprocess thread:thread; do
        k=$(median_of "$methods" "${pair%%:*}") p=$(median_of "$py" "${pair#*:}")
        printf '  %-44s %10s %10s\n' "${pair%%:*} / ${pair#*:}" "$k" "$p"
        peer_row 1 "start and reap, us: ${pair%%:*} vs Python ${pair#*:}" "$k" "$p" "python3 spawn.py --only methods"
    done
    echo "  (Python: $(head -1 "$tmp/py1.txt" | cut -d' ' -f2-))"
}

chapter1() {
    echo "== chapter 1: start a process and reap it, microseconds per process"
    local methods="$tmp/ch01-methods.tsv" ours
    "$build/ch01-fork" --only methods --trials "${CH01_PEER_TRIALS:-15}" --out "$tmp" >/dev/null
    ours=$(median_of "$methods" fork)
    # the methods run's rows are compared right after it; stress-ng has rounds of its own
    ch1_hyperfine "$methods"
    ch1_hyperfine_trace
    ch1_python "$methods"
    ch1_stress "$ours" "$methods"
    ch1_stress_trace
}
