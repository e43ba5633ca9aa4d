# ch09.sh - chapter 9's peers, sourced by harness/peers.sh: the C ladder beside the tutorial's two
# versions in Python with NumPy (corrected so that they run), on the same values and seed, one
# after the other. Python is read through the same phases where it lets us see them. Then NumPy's
# arithmetic alone with its vector code paths turned off, one set at a time, and C's with glibc's
# vector sin and cos: what of each one's speed per value is vector code.

ch09_python() {   # a python3 that imports NumPy (the one on PATH, or Debian's), installed as root
    local p
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { echo "$p"; return 0; }
    done
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "peers: installing python3-numpy" >&2
        apt-get -qq update >&2 && DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends python3-numpy >&2 &&
            /usr/bin/python3 -c 'import numpy' 2>/dev/null && { echo /usr/bin/python3; return 0; }
    fi
    return 1
}

# CH09_ELEMENTS: values (default 10M); CH09_LANES: C's sin and cos that many values at a time in
# every rung (ch09-casestudy --lanes: 1, the default, or 4, 8, 16 through glibc's vector versions).
chapter9() {
    local n=${CH09_ELEMENTS:-10000000} lanes=${CH09_LANES:-1} py c_phases="$tmp/ch09-ladder-phases.tsv" py_phases="$tmp/ch09-python-phases.tsv"
    echo "== chapter 9: the case study, $n values, W = $(nproc): C rungs beside the tutorial's versions (NumPy)"
    [ "$lanes" = 1 ] || echo "  C's rungs take sin and cos $lanes values at a time (CH09_LANES=$lanes: ch09-casestudy --lanes $lanes)"
    py=$(ch09_python) || {
        echo "peers: NumPy not available (install with: sudo apt-get install python3-numpy); skipped" >&2
        return 0
    }
    "$build/ch09-casestudy" --only ladder --elements "$n" --lanes "$lanes" --trials 3 --out "$tmp" >"$tmp/c9.txt"
    "$py" chapters/09-casestudy/casestudy.py --elements "$n" --trials 3 --out "$tmp" >"$tmp/py9.txt"
    local c_total py_total
    c_total=$(sed -n 's/^  result: \([0-9.]*\) .*/\1/p' "$tmp/c9.txt")
    py_total=$(sed -n 's/^optimized-fixed .* total=\([0-9.]*\) .*/\1/p' "$tmp/py9.txt")
    [ -n "$c_total" ] && [ -n "$py_total" ] || { echo "peers: could not read the results:"; cat "$tmp/c9.txt" "$tmp/py9.txt"; return 1; }
    grep -E '^(naive|optimized)-as-printed' "$tmp/py9.txt" | sed 's/^/  python: /'
    printf '  %-44s %10s %10s %8s\n' "rung (C) / version (Python), median ms" "C" "Python" "Py / C"
    local pair c p cm pm
    # optimized-as-timed starts its clock with the values already in shared memory, as the
    # tutorial's does (C's pool-shm-batched); optimized-fixed fills it inside the clock (+fill)
    for pair in sequential:numpy-sequential fork-per-chunk-pipe:naive-fixed \
        pool-shm-batched:optimized-as-timed pool-shm-batched+fill:optimized-fixed; do
        c=${pair%%:*} p=${pair#*:}
        cm=$(median_of "$tmp/ch09-ladder.tsv" "$c") pm=$(median_of "$tmp/ch09-python-ladder.tsv" "$p")
        printf '  %-44s %10.1f %10.1f %8.2f\n' "$c / $p" "$cm" "$pm" "$(awk -v a="$pm" -v b="$cm" 'BEGIN { print a / b }')"
        peer_row 9 "case study, $c vs $p, ms" "$cm" "$pm" "python3 casestudy.py"
    done
    local c_as c_fill p_as p_fill
    c_as=$(median_of "$tmp/ch09-ladder.tsv" pool-shm-batched) p_as=$(median_of "$tmp/ch09-python-ladder.tsv" optimized-as-timed)
    c_fill=$(median_of "$tmp/ch09-ladder.tsv" pool-shm-batched+fill) p_fill=$(median_of "$tmp/ch09-python-ladder.tsv" optimized-fixed)
    awk -v ca="$c_as" -v pa="$p_as" -v cf="$c_fill" -v pf="$p_fill" 'BEGIN {
        printf "  goal: the C optimized rung faster than Python'"'"'s optimized version: %s as the tutorial times it (%.1f against %.1f ms), %s with the fill (%.1f against %.1f ms)\n",
            ca < pa ? "met" : "NOT met", ca, pa, cf < pf ? "met" : "NOT met", cf, pf }'
    echo "  phases of the median trial, ms (start distribute compute collect teardown):"
    awk -F'\t' -v n="$n" '($1 == "pool-shm-batched" || $1 == "pool-shm-batched+fill") && $2 == n { printf "    C %-24s %8.1f %8.1f %8.1f %8.1f %8.1f\n", $1 ":", $5, $6, $7, $8, $9 }' "$c_phases"
    awk -F'\t' '$1 ~ /^optimized-/ { printf "    Python %-19s %8.1f %8.1f %8.1f %8.1f %8.1f\n", $1 ":", $5, $6, $7, $8, $9 }' "$py_phases"
    sed -n 's/^Pool(/  python: Pool(/p' "$tmp/py9.txt"
    awk -F'\t' -v n="$n" '$1 == "sequential" && $2 == n { c = $7 } END { printf "  arithmetic in one process: C %.2f ns per value", 1e6 * c / n }' "$c_phases"
    awk -F'\t' -v n="$n" '$1 == "numpy-sequential" { printf ", NumPy %.2f ns per value\n", 1e6 * $7 / n }' "$py_phases"
    awk -v a="$c_total" -v b="$py_total" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "  results: C %s, Python %s (relative difference %.1e; both within 1e-5 of a float64 reference)\n", a, b, d / a }'
    ch09_numpy_vector_code "$py" "$n"
    ch09_c_vector_code "$n"
    echo "  (same values, same seed, one after the other; see book.md, chapter 9)"
}

# NumPy's arithmetic alone, in one process, as NumPy dispatches it on this CPU, then with its
# AVX-512 code paths turned off, then with every path beyond its SSE3 baseline turned off
# (NPY_DISABLE_CPU_FEATURES): how much of NumPy's speed per value is vector code. Median of 7
# passes after one untimed.
ch09_numpy_vector_code() {
    local py=$1 n=$2 found avx512 pass
    pass='import sys, time, numpy as np
n = int(sys.argv[1]); x = np.random.default_rng(1).random(n, dtype=np.float32); t = []
for _ in range(8):
    s = time.perf_counter()
    np.sum(np.sin(x) * np.cos(x) + np.sqrt(np.abs(x)), dtype=np.float64)
    t.append(time.perf_counter() - s)
print(f"{sorted(t[1:])[3] * 1e9 / n:.2f}")'
    found=$("$py" -c 'from numpy.core._multiarray_umath import __cpu_features__ as f, __cpu_dispatch__ as d
print(" ".join(x for x in d if f.get(x)))') || { echo "  (NumPy does not say which CPU features it dispatches to; vector-code rows skipped)"; return 0; }
    avx512=$(tr ' ' '\n' <<<"$found" | grep '^AVX512' | tr '\n' ' ' || true)
    printf '  NumPy arithmetic alone, ns per value: %s as dispatched (%s)' "$("$py" -c "$pass" "$n")" "${found:-baseline only}"
    [ -n "$avx512" ] && printf ', %s without AVX-512' "$(NPY_DISABLE_CPU_FEATURES="$avx512" "$py" -c "$pass" "$n")"
    [ -n "$found" ] && printf ', %s with only the SSE3 baseline' "$(NPY_DISABLE_CPU_FEATURES="$found" "$py" -c "$pass" "$n")"
    echo
}

# C's arithmetic alone, in one process: sin and cos one value at a time, as the rungs compute
# them, then through glibc's vector versions (libmvec) at each width this CPU has
# (ch09-casestudy --only arithmetic, which checks every block against rung 0's).
ch09_c_vector_code() {
    local n=$1
    "$build/ch09-casestudy" --only arithmetic --elements "$n" --out "$tmp" >"$tmp/c9-arithmetic.txt"
    awk -F'\t' '!/^#/ && $1 != "variant" { v[++k] = $1; m[k] = $5 }
        END { printf "  C arithmetic alone, ns per value:"
              for (i = 1; i <= k; i++) printf "%s %.2f %s", (i > 1 ? "," : ""), m[i], v[i]
              print "" }' "$tmp/ch09-arithmetic.tsv"
}
