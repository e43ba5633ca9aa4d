# ch05.sh - chapter 5's peers, sourced by harness/peers.sh (which defines have, peer_row, median_of,
# $build and $tmp): one pass over the same cached file (same size, same values, same exact sum)
# by ch05-mmap and by the Python twin (readers.py, NumPy doing the adding), one after the other,
# MB/s. CH05_PEER_SIZE (default 40000000 bytes) sets the file's size.

# ch5_python: a python3 that imports NumPy (the one on PATH, or Debian's), installed as root
ch5_python() {
    local p
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { echo "$p"; return 0; }
    done
    if [ -z "${KIT_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "peers: installing python3-numpy" >&2
        apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends python3-numpy >&2 &&
            /usr/bin/python3 -c 'import numpy' 2>/dev/null && { echo /usr/bin/python3; return 0; }
    fi
    return 1
}

chapter5() {
    local size=${CH05_PEER_SIZE:-40000000} n py pair k q c_sum py_sum
    n=$(nproc)
    echo "== chapter 5: one pass over a cached $size-byte file of float32 values, MB/s: C beside Python (readers.py)"
    py=$(ch5_python) || {
        echo "  NumPy not available (install with: sudo apt-get install python3-numpy); the Python side,"
        echo "  chapters/05-mmap/readers.py, is skipped"
        return 0
    }
    "$build/ch05-mmap" --only methods --size "$size" --trials 5 --out "$tmp" >"$tmp/c5.txt" 2>"$tmp/c5.err" ||
        { echo "peers: ch05-mmap failed:"; cat "$tmp/c5.txt" "$tmp/c5.err"; return 1; }
    "$py" chapters/05-mmap/readers.py --only methods --size "$size" --trials 5 --out "$tmp" >"$tmp/py5.txt" ||
        { echo "peers: readers.py failed:"; cat "$tmp/py5.txt"; return 1; }
    c_sum=$(sed -n 's/.*exact sum \(-\?[0-9.]*\).*/\1/p' "$tmp/c5.txt" | head -1)
    py_sum=$(sed -n 's/.*exact sum \(-\?[0-9.]*\).*/\1/p' "$tmp/py5.txt" | head -1)
    [ -n "$c_sum" ] && [ "$c_sum" = "$py_sum" ] ||
        { echo "peers: the two files differ: C's exact sum '$c_sum', Python's '$py_sum'"; return 1; }
    printf '  %-44s %10s %10s %8s\n' "C method / Python method" "C MB/s" "Py MB/s" "Py / C"
    for pair in read:read read:read-pysum mmap:mmap mmap:numpy.memmap pread-$n:pread-$n mmap-$n:mmap-$n; do
        k=$(median_of "$tmp/ch05-methods.tsv" "${pair%%:*}") q=$(median_of "$tmp/ch05-python-methods.tsv" "${pair#*:}")
        [ -n "$k" ] && [ -n "$q" ] || { echo "peers: no ${pair%%:*} / ${pair#*:} row"; return 1; }
        printf '  %-44s %10.1f %10.1f %8.2f\n' "${pair%%:*} / ${pair#*:}" "$k" "$q" \
            "$(awk -v a="$q" -v b="$k" 'BEGIN { print a / b }')"
        peer_row 5 "one pass over $size cached bytes, MB/s: ${pair%%:*} vs Python ${pair#*:}" "$k" "$q" \
            "$py readers.py --only methods --size $size"
    done
    echo "  (the same values on both sides: exact sum $c_sum. Python: $(head -1 "$tmp/py5.txt" | cut -d' ' -f2-))"
}
