# ch04.sh - chapter 4's peers, sourced by harness/peers.sh (which defines have, peer_row, $build
# and $tmp): the C counters beside the Python twin's (counters.py), one after the other, at
# P = 1 and P = CPUs, in ns per increment. Python's Value.get_lock() is a POSIX semaphore, so
# its peer is the kit's semaphore row; batched beside batched, RawArray slots beside C's slots,
# RawValue beside none (both lose updates: the lost counts are printed, not compared).
# CH04_PEER_INCREMENTS (default 100000) sets the Python run's increments per trial.

ch4_at() {   # ch4_at TSV VARIANT X: that row's median
    awk -F'\t' -v v="$2" -v x="$3" '$1 == v && $2 == x { print $5; exit }' "$1"
}

chapter4() {
    local c="$tmp/ch04-per-increment.tsv" py="$tmp/ch04-python-per-increment.tsv" p pair k q
    local cpus increments=${CH04_PEER_INCREMENTS:-100000}
    cpus=$(nproc)
    echo "== chapter 4: ns per increment of a shared count, C beside Python (counters.py), P = 1 and $cpus"
    have python3 python3 || { echo "  (the Python side, chapters/04-locks/counters.py, is skipped)"; return 0; }
    "$build/ch04-locks" --only per-increment --variant none,semaphore,batched,slots --trials 5 \
        --out "$tmp" >"$tmp/c4.txt" || { echo "peers: ch04-locks failed:"; cat "$tmp/c4.txt"; return 1; }
    python3 chapters/04-locks/counters.py --increments "$increments" --out "$tmp" >"$tmp/py4.txt" ||
        { echo "peers: counters.py failed:"; cat "$tmp/py4.txt"; return 1; }
    printf '  %-44s %4s %10s %10s %8s\n' "C variant / Python variant" P "C ns" "Python ns" "Py / C"
    for p in 1 "$cpus"; do
        for pair in semaphore:Value-get_lock batched:batched slots:RawArray-slots none:RawValue; do
            k=$(ch4_at "$c" "${pair%%:*}" "$p") q=$(ch4_at "$py" "${pair#*:}" "$p")
            [ -n "$k" ] && [ -n "$q" ] || { echo "peers: no ${pair%%:*} / ${pair#*:} row at P=$p"; return 1; }
            printf '  %-44s %4s %10.2f %10.1f %8.0f\n' "${pair%%:*} / ${pair#*:}" "$p" "$k" "$q" \
                "$(awk -v a="$q" -v b="$k" 'BEGIN { print a / b }')"
            peer_row 4 "ns per increment, P=$p: ${pair%%:*} vs Python ${pair#*:}" "$k" "$q" \
                "python3 counters.py --increments $increments"
        done
    done
    sed -n 's/^ *\(\(RawValue\|Value\) lost updates.*\)/  Python: \1/p' "$tmp/py4.txt"
    echo "  (C: ch04-locks --only per-increment, 1000000 increments a trial; Python $increments;"
    echo "   same unit: the workers' wall time / increments. Python: $(head -1 "$tmp/py4.txt" | cut -d' ' -f2-))"
}
