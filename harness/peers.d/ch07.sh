# peers.d/ch07.sh - chapter 7's peers, sourced by harness/peers.sh: the kit's bounded queues
# beside Python's multiprocessing queues (chapters/07-prodcons/prodcons.py), 1 producer +
# 1 consumer, the same 64-byte items, each side checking every item; one after the other.

chapter7() {
    echo "== chapter 7: 64-byte items through a queue, 1 producer + 1 consumer, million items/s"
    have python3 python3 || return 0
    ch7_median() {   # ch7_median TSV VARIANT X: the median of that row
        awk -F'\t' -v v="$2" -v x="$3" '$1 == v && $2 == x { print $5; exit }' "$1"
    }
    "$build/ch07-prodcons" --only throughput --out "$tmp" >"$tmp/ch07-c.txt" 2>/dev/null ||
        { echo "peers: ch07-prodcons failed:"; cat "$tmp/ch07-c.txt"; return 1; }
    python3 chapters/07-prodcons/prodcons.py --only throughput --out "$tmp" >"$tmp/ch07-py.txt" ||
        { echo "peers: prodcons.py failed:"; cat "$tmp/ch07-py.txt"; return 1; }
    local c="$tmp/ch07-throughput.tsv" py="$tmp/ch07-python-throughput.tsv" v m
    for v in pipe mutex-cond semaphores mpmc-ring ring-batch; do
        m=$(ch7_median "$c" "$v" 1024)
        [ -n "$m" ] && printf '  %-44s %10.4f\n' "ch07-prodcons $v, capacity 1024" "$m"
    done
    for v in "Queue 100" "Queue 1024" "JoinableQueue 1024" "Pipe 0" "SimpleQueue 0"; do
        set -- $v
        m=$(ch7_median "$py" "$1" "$2")
        [ -n "$m" ] && printf '  %-44s %10.4f\n' "python $1$([ "$2" = 0 ] || echo "(maxsize=$2)")" "$m"
    done
    local batch queue100 mc queue1024
    batch=$(ch7_median "$c" ring-batch 1024) queue100=$(ch7_median "$py" Queue 100)
    mc=$(ch7_median "$c" mutex-cond 1024) queue1024=$(ch7_median "$py" Queue 1024)
    [ -n "$batch" ] && [ -n "$queue100" ] && [ -n "$mc" ] && [ -n "$queue1024" ] ||
        { echo "peers: could not read the chapter 7 medians"; return 1; }
    awk -v b="$batch" -v q="$queue100" -v m="$mc" -v q2="$queue1024" 'BEGIN {
        printf "  ratio ring-batch / mp.Queue(maxsize=100), the tutorial'"'"'s queue: %.0fx (goal: 100x, %s)\n", b / q, (b / q >= 100) ? "met" : "not met"
        printf "  ratio mutex-cond / mp.Queue(maxsize=1024), a lock per item on both sides: %.0fx\n", m / q2 }'
    peer_row 7 "items/s through a queue, 1+1, capacity 1024 (Python: mp.Queue)" "$mc" "$queue1024" \
        "python3 prodcons.py"
    echo "  (mp.Queue pickles each item and hands it to a feeder thread that writes it to a pipe;"
    echo "   see book.md, chapter 7. Python: $(head -1 "$tmp/ch07-py.txt" | cut -d' ' -f2-))"
}
