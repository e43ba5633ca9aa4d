# ch10.sh - chapter 10's peers, sourced by harness/peers.sh (which defines build, tmp, have and
# median_of): the same row task over the same generated CSV by the C methods, by GNU parallel
# --pipepart + awk and a single awk (measured inside the C program's run, one after the other),
# and by the Python twin's recipes (rows.py), as ratios. Both sides check their totals; the
# digests of the per-key totals must agree, or the comparison is refused.

chapter10() {
    local nrows=${CH10_PEER_ROWS:-100000} f="$tmp/ch10-rows.csv" c_digest py_digest
    echo "== chapter 10: one row task over the same CSV ($nrows rows), million rows per second"
    "$build/ch10-rows" --only methods --rows "$nrows" --trials 3 --out "$tmp" >"$tmp/c10.txt"
    c_digest=$(sed -n 's/.*totals digest \([0-9a-f]*\)$/\1/p' "$tmp/c10.txt")
    local t="$tmp/ch10-methods.tsv" v
    for v in sequential per-row chunks byte-ranges-pread byte-ranges-mmap shared-output parallel+awk awk wc-l cat; do
        [ -n "$(median_of "$t" "$v")" ] && printf '  %-40s %10.4g Mrows/s\n' "ch10-rows $v" "$(median_of "$t" "$v")"
    done
    local best br_name
    best=$(awk -F'\t' '$1 ~ /^byte-ranges/ && $5 > m { m = $5; n = $1 } END { print m, n }' "$t")
    br_name=${best#* } best=${best%% *}
    awk -v b="$best" -v n="$br_name" -v s="$(median_of "$t" sequential)" -v p="$(median_of "$t" parallel+awk)" \
        -v a="$(median_of "$t" awk)" 'BEGIN {
        printf "  ratio %s / C sequential: %.2f\n", n, b / s
        if (p != "") printf "  ratio %s / GNU parallel --pipepart + awk: %.1f; / one awk: %.1f\n", n, b / p, b / a }'
    local par awk_rate
    par=$(median_of "$t" parallel+awk) awk_rate=$(median_of "$t" awk)
    [ -z "$par" ] || peer_row 10 "$nrows CSV rows, M rows/s: $br_name vs GNU parallel + awk" \
        "$best" "$par" "parallel --pipepart --block size/W -j W awk | awk | sort"
    [ -z "$awk_rate" ] || peer_row 10 "$nrows CSV rows, M rows/s: $br_name vs one awk" \
        "$best" "$awk_rate" "$(awk -F'\t' '/^# rows=/ { print }' "$t" | sed -n 's/.* awk=\([^ ]*\).*/\1/p') -F, (one process)"
    have python3 python3 || return 0
    "$build/ch10-rows" --generate "$f" --rows "$nrows" >/dev/null
    python3 chapters/10-rows/rows.py "$f" --trials 3 --out "$tmp" >"$tmp/py10.txt" 2>"$tmp/py10.err" ||
        { echo "peers: rows.py failed:"; cat "$tmp/py10.txt" "$tmp/py10.err"; return 1; }
    py_digest=$(sed -n 's/.*totals digest \([0-9a-f]*\),.*/\1/p' "$tmp/py10.txt")
    [ -n "$c_digest" ] && [ "$c_digest" = "$py_digest" ] ||
        { echo "peers: the Python totals ($py_digest) differ from C's ($c_digest)"; return 1; }
    sed -n 's/^  \([a-z.0-9-]*\) .*Mrows\/s$/&/p; /FAILS as written/p' "$tmp/py10.txt" | sed 's/^  /  python3 rows.py /'
    local py_best py_name py_seq
    py_best=$(sed -n 's/^best=[^ ]* rate=\([^ ]*\) .*/\1/p' "$tmp/py10.txt")
    py_name=$(sed -n 's/^best=\([^ ]*\) .*/\1/p' "$tmp/py10.txt")
    py_seq=$(sed -n 's/^best=.* sequential=\([^ ]*\)$/\1/p' "$tmp/py10.txt")
    awk -v b="$best" -v n="$br_name" -v pb="$py_best" -v pn="$py_name" -v s="$(median_of "$t" sequential)" -v ps="$py_seq" 'BEGIN {
        printf "  ratio C %s / Python %s (its best recipe): %.0f (goal >= 10)\n", n, pn, b / pb
        printf "  ratio C sequential / Python sequential: %.0f\n", s / ps }'
    peer_row 10 "$nrows CSV rows, M rows/s: $br_name vs Python's best recipe ($py_name)" \
        "$best" "$py_best" "python3 rows.py (stdlib multiprocessing)"
    peer_row 10 "$nrows CSV rows, M rows/s: C sequential vs Python sequential" \
        "$(median_of "$t" sequential)" "$py_seq" "python3 rows.py (a for loop)"
    echo "  (same rows, same totals: digest $c_digest on both sides; see book.md, chapter 10)"
}
