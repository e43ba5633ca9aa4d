#!/usr/bin/env bats
# The harness itself: deps check, chapter runner, TSV checker, book excerpts, plots.

load test_helper

@test "deps.sh check: all present exits 0 on this machine" {
    requires command dpkg-query
    run "$KIT_ROOT/harness/deps.sh" check
    assert_success
    assert_output ""
}

@test "deps.sh: a missing package is named with the one apt-get line that installs it" {
    # a dpkg-query that says gnuplot-nox is not installed, and no gnuplot on PATH
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    cat >"$BATS_TEST_TMPDIR/bin/dpkg-query" <<'SH'
#!/bin/sh
for last; do :; done
[ "$last" = gnuplot-nox ] && { echo not-installed; exit 0; }
echo installed
SH
    chmod +x "$BATS_TEST_TMPDIR/bin/dpkg-query"
    for c in bash cc make awk id env; do ln -sf "$(command -v $c)" "$BATS_TEST_TMPDIR/bin/$c"; done
    PATH="$BATS_TEST_TMPDIR/bin" run "$KIT_ROOT/harness/deps.sh" check
    assert_failure 2
    assert_output --partial "deps: missing: gnuplot-nox"
    assert_output --partial "--no-install-recommends gnuplot-nox"
}

@test "run-chapter.sh: a chapter number outside 1..10 is a usage error" {
    run "$KIT_ROOT/harness/run-chapter.sh" 11
    assert_failure 2
    assert_output "run-chapter.sh: chapter must be 1 to 10, not '11'"
}

@test "make chapterN on a fresh tree builds its program first; --only draws that figure, skips the rest" {
    # the README's first command, in a copy with no build/ directory
    local tree="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$tree"
    cp -r "$KIT_ROOT"/{Makefile,common,chapters,harness,plots} "$tree"/
    rm -rf "$tree/plots/out"
    # as a user types it: not inside make test's variables (SANITIZE=1, KIT_BUILD)
    run env -u MAKEFLAGS -u MFLAGS -u SANITIZE -u KIT_BUILD make -s -C "$tree" chapter1 ARGS="--quick --only rss"
    assert_success
    [ -x "$tree/build/ch01-fork" ] || fail "make chapter1 did not build build/ch01-fork"
    [ -s "$tree/plots/out/ch01-rss.svg" ] || fail "the rss figure was not drawn"
    [ ! -e "$tree/plots/out/ch01-batch.svg" ] || fail "a figure without its data was drawn"
    assert_output --partial "figure skipped: ch01-batch (no results/ch01-batch.tsv; that experiment did not run)"
    # make -B remakes the included .d files too: only the programs may match the build rule
    run env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$tree" -B BUILD=build/again build/again/ch01-fork
    assert_success
    run env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$tree" -B BUILD=build/again build/again/ch01-fork  # with a .d file
    assert_success
    assert_output ""
}

@test "a program built with another compiler is rebuilt by a plain make, not reused" {
    requires command clang
    local tree="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$tree/chapters"
    cp -r "$KIT_ROOT"/{Makefile,common} "$tree"/
    cp -r "$KIT_ROOT/chapters/01-fork" "$tree/chapters/"
    run env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$tree" CC=clang build/ch01-fork
    assert_success
    run grep -c 'clang version' "$tree/build/ch01-fork"
    assert_output 1
    run env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$tree" build/ch01-fork
    assert_success
    run grep -c 'clang version' "$tree/build/ch01-fork"
    assert_output 0
    run cat "$tree/build/compiler"
    assert_output --regexp '^cc -std=c11 -O2 '
}

@test "figures.sh: a chapter that is not written, or not a chapter, is refused before any run" {
    run "$KIT_ROOT/harness/figures.sh" --reference 11
    assert_failure 2
    assert_output "usage: harness/figures.sh [--reference] [N ...]"
    local n missing=
    for n in $(seq 1 10); do
        ls "$KIT_ROOT"/chapters/"$(printf %02d "$n")"-*/*.c >/dev/null 2>&1 || { missing=$n; break; }
    done
    [ -n "$missing" ] || skip "every chapter is written"
    run "$KIT_ROOT/harness/figures.sh" 1 "$missing"
    assert_failure 2
    assert_output "figures.sh: chapter $missing is not written yet"
    refute_output --partial "== chapter 1"
}

@test "make chapterN for a chapter not written yet says so and fails" {
    local n missing=
    for n in $(seq 1 10); do
        ls -d "$KIT_ROOT"/chapters/"$(printf %02d "$n")"-*/ >/dev/null 2>&1 || { missing=$n; break; }
    done
    [ -n "$missing" ] || skip "every chapter is written"
    run make -s -C "$KIT_ROOT" "chapter$missing"
    assert_failure
    assert_output --partial "chapter $missing is not written yet"
}

@test "check-tsv.sh accepts a well-formed measurement table" {
    printf '# chapter=01 program=fork experiment=x mode=quick\n# host=h cpus=2 model=m kernel=k date=d git=g\n# args=--quick\n# x=bytes\nvariant\tx\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\npipe\t64\tus\t3\t2\t1\t3\t2\t1\n' >"$BATS_TEST_TMPDIR/good.tsv"
    run "$KIT_ROOT/harness/check-tsv.sh" "$BATS_TEST_TMPDIR/good.tsv"
    assert_success
}

@test "check-tsv.sh rejects a wrong header, a non-number and min > median" {
    printf '# chapter=01 program=fork experiment=x mode=quick\n# host=h cpus=2 model=m kernel=k date=d git=g\n# args=\n# x=bytes\nvariant\tx\tunit\tn\tmedian\tmin\tmax\tmean\n' >"$BATS_TEST_TMPDIR/header.tsv"
    run "$KIT_ROOT/harness/check-tsv.sh" "$BATS_TEST_TMPDIR/header.tsv"
    assert_failure
    assert_output --partial "needs the columns"
    printf '# chapter=01 program=fork experiment=x mode=quick\n# host=h cpus=2 model=m kernel=k date=d git=g\n# args=\n# x=bytes\nvariant\tx\tunit\tn\tmedian\tmin\tmax\tmean\tstddev\npipe\t64\tus\t3\tfast\t1\t3\t2\t1\npipe\t64\tus\t3\t1\t2\t3\t2\t1\n' >"$BATS_TEST_TMPDIR/values.tsv"
    run "$KIT_ROOT/harness/check-tsv.sh" "$BATS_TEST_TMPDIR/values.tsv"
    assert_failure
    assert_output --partial "column 5 is not a number: fast"
    assert_output --partial ":7: needs min <= median <= max"
}

@test "book excerpts match their sources" {
    run "$KIT_ROOT/harness/book-sync.sh" --check
    assert_success
    assert_output --regexp "^book-sync: [1-9][0-9]* excerpts in book.md match their sources$"
}

@test "book-sync.sh --check catches an excerpt that drifted" {
    sed '0,/^<!-- excerpt: /{/^<!-- excerpt: /{n;n;s/$/ \/\/ drifted/}}' "$KIT_ROOT/book.md" >"$BATS_TEST_TMPDIR/book.md"
    run "$KIT_ROOT/harness/book-sync.sh" --check "$BATS_TEST_TMPDIR/book.md"
    assert_failure 1
    assert_output --partial "// drifted"
    assert_output --partial "differ from the sources"
}

@test "plot.sh without gnuplot says the figures were skipped and succeeds" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    for c in bash dirname basename mkdir; do ln -sf "$(command -v $c)" "$BATS_TEST_TMPDIR/bin/$c"; done
    PATH="$BATS_TEST_TMPDIR/bin" run "$KIT_ROOT/harness/plot.sh" "$KIT_ROOT/plots/ch01-methods.gp"
    assert_success
    assert_output "figures skipped: gnuplot is not installed (make deps)"
}

@test "every written chapter has its test file, plot scripts and book section" {
    local d nn n
    for d in "$KIT_ROOT"/chapters/[0-9][0-9]-*/; do
        nn=$(basename "$d" | cut -c1-2); n=$((10#$nn))
        ls "$KIT_ROOT"/tests/ch"$nn"-*.bats >/dev/null || fail "no tests/ch$nn-*.bats"
        ls "$KIT_ROOT"/plots/ch"$nn"-*.gp >/dev/null || fail "no plots/ch$nn-*.gp"
        grep -qE "^## Chapter $n\b" "$KIT_ROOT/book.md" || fail "no '## Chapter $n' in book.md"
    done
}

@test "every plot script is rendered by its chapter's tests" {
    local script nn
    for script in "$KIT_ROOT"/plots/ch*.gp; do
        nn=$(basename "$script" | cut -c3-4)
        grep -q "assert_plots_render $nn" "$KIT_ROOT"/tests/ch"$nn"-*.bats ||
            fail "$(basename "$script"): tests/ch$nn-*.bats never calls assert_plots_render $nn"
    done
}

@test "the book has all ten chapter headings in order" {
    run grep -oE '^## Chapter [0-9]+' "$KIT_ROOT/book.md"
    assert_output "$(for n in $(seq 1 10); do echo "## Chapter $n"; done)"
}

@test "every figure the book embeds is committed under plots/reference/" {
    local figure missing=()
    for figure in $(grep -oE 'plots/reference/[A-Za-z0-9_-]+\.svg' "$KIT_ROOT/book.md" | sort -u); do
        [ -s "$KIT_ROOT/$figure" ] || missing+=("$figure")
    done
    [ ${#missing[@]} -eq 0 ] || fail "missing: ${missing[*]} (make figures REFERENCE=1)"
    [ -s "$KIT_ROOT/plots/reference/MACHINE.md" ] || fail "plots/reference/MACHINE.md is missing"
    for figure in $(grep -oE 'plots/reference/[A-Za-z0-9_-]+\.svg' "$KIT_ROOT/book.md" | sort -u); do
        assert_white_background "$KIT_ROOT/$figure"
    done
}

@test "deps.sh installs quietly: one line per package, apt's output kept in a log only on failure" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    cat >"$BATS_TEST_TMPDIR/bin/dpkg-query" <<'SH'
#!/bin/sh
for last; do :; done
case "$last" in gnuplot-nox | parallel) echo not-installed ;; *) echo installed ;; esac
SH
    printf '#!/bin/sh\necho 0\n' >"$BATS_TEST_TMPDIR/bin/id"
    printf '#!/bin/sh\necho "apt noise: $*"\n[ -z "$APT_FAILS" ] || [ "$1" != -q ] || [ "$2" = update ] || exit 100\n' \
        >"$BATS_TEST_TMPDIR/bin/apt-get"
    chmod +x "$BATS_TEST_TMPDIR"/bin/*
    for c in bash cc make awk env mktemp rm tail; do ln -sf "$(command -v $c)" "$BATS_TEST_TMPDIR/bin/$c"; done
    PATH="$BATS_TEST_TMPDIR/bin" TMPDIR="$BATS_TEST_TMPDIR" run "$KIT_ROOT/harness/deps.sh" install
    assert_success
    assert_output "$(printf 'deps: installing parallel\ndeps: installing gnuplot-nox')"
    [ -z "$(ls "$BATS_TEST_TMPDIR" | grep kit-deps)" ] || fail "the log of a good install was kept"
    APT_FAILS=1 PATH="$BATS_TEST_TMPDIR/bin" TMPDIR="$BATS_TEST_TMPDIR" run "$KIT_ROOT/harness/deps.sh" install
    assert_failure 1
    assert_output --regexp "deps: apt-get failed; its full output is in $BATS_TEST_TMPDIR/kit-deps\.[A-Za-z0-9]+"
    assert_output --partial "apt noise: -q -o DPkg::Lock::Timeout=300 install"
}

@test "deps.sh: an optional package is installed when apt has it, skipped with a note when not" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    cat >"$BATS_TEST_TMPDIR/bin/dpkg-query" <<'SH'
#!/bin/sh
for last; do :; done
case "$last" in pandoc | rsync) echo not-installed ;; *) echo installed ;; esac
SH
    # apt-cache writes its version table after a pause, as the real one may write in pieces:
    # a reader that stops at the first "Candidate:" line would make it die of SIGPIPE
    cat >"$BATS_TEST_TMPDIR/bin/apt-cache" <<'SH'
#!/bin/sh
case "$2" in pandoc) echo "pandoc:"; echo "  Candidate: 2.17.1.1-2" ;; *) echo "$2:"; echo "  Candidate: (none)" ;; esac
sleep 0.2
echo "  Version table:"
SH
    printf '#!/bin/sh
exit 0
' >"$BATS_TEST_TMPDIR/bin/apt-get"
    printf '#!/bin/sh
echo 0
' >"$BATS_TEST_TMPDIR/bin/id"
    chmod +x "$BATS_TEST_TMPDIR"/bin/*
    for c in bash cc make awk env mktemp rm tail sleep grep; do ln -sf "$(command -v $c)" "$BATS_TEST_TMPDIR/bin/$c"; done
    PATH="$BATS_TEST_TMPDIR/bin" TMPDIR="$BATS_TEST_TMPDIR" run "$KIT_ROOT/harness/deps.sh" install
    assert_success
    assert_output "$(printf 'deps: rsync is not available here; the tests that need it are skipped\ndeps: installing pandoc')"
}

# The page and a probe that, once everything loaded, writes what it found into the DOM.
# The timeout only detects a hang: at nice 10 beside three test suites and a CPU hog, Chromium
# took more than 90 s to load the 2.6 MB page.
probe_page() {
    awk 'FNR == NR { probe = probe $0 "\n"; next } /<\/body>/ { printf "%s", probe } { print }' \
        "$KIT_ROOT/tests/probe/book-probe.html" "$1" >"$2"
    timeout 300 chromium-headless-shell --no-sandbox --disable-gpu --virtual-time-budget=10000 \
        --dump-dom "file://$2" 2>/dev/null | grep -o 'data-probe="[^"]*"'
}

@test "make book-html: one page where every figure loads and every internal link has its anchor" {
    requires command pandoc
    requires command chromium-headless-shell
    run "$KIT_ROOT/harness/book-html.sh" "$BATS_TEST_TMPDIR/book.html"
    assert_success
    local figures
    figures=$(grep -c '^!\[' "$KIT_ROOT/book.md")
    [ "$figures" -ge 20 ] || fail "book.md embeds only $figures figures"
    assert_output "book: $BATS_TEST_TMPDIR/book.html ($figures figures inlined)"
    run probe_page "$BATS_TEST_TMPDIR/book.html" "$BATS_TEST_TMPDIR/probe.html"
    assert_output "data-probe=\"images=$figures broken=0 missing=\""
}

@test "the book probe sees a broken figure and a link to a missing anchor" {
    requires command chromium-headless-shell
    printf '<html><body><img src="nowhere.svg"><a href="#gone">x</a></body></html>\n' \
        >"$BATS_TEST_TMPDIR/bad.html"
    run probe_page "$BATS_TEST_TMPDIR/bad.html" "$BATS_TEST_TMPDIR/probe.html"
    assert_output 'data-probe="images=1 broken=1 missing=gone"'
}

# A chapter whose reference run kept its data (plots/reference/data/chNN-output.txt) must have
# committed every table its embedded figures read, so each number the book quotes can be traced.
@test "every TSV a reference figure reads is committed beside its chapter's terminal output" {
    local figure script table nn missing=() kept=0
    for figure in $(grep -oE 'plots/reference/[A-Za-z0-9_-]+\.svg' "$KIT_ROOT/book.md" | sort -u); do
        nn=$(basename "$figure" | cut -c3-4)
        git -C "$KIT_ROOT" ls-files --error-unmatch "plots/reference/data/ch$nn-output.txt" \
            >/dev/null 2>&1 || continue
        kept=$((kept + 1))
        script="$KIT_ROOT/plots/$(basename "$figure" .svg).gp"
        [ -f "$script" ] || { missing+=("$script"); continue; }
        for table in $(grep -o "datadir\.'/[^']*'" "$script" | sed "s|datadir\.'/||; s|'\$||" | sort -u); do
            git -C "$KIT_ROOT" ls-files --error-unmatch "plots/reference/data/$table" >/dev/null 2>&1 ||
                missing+=("plots/reference/data/$table")
        done
    done
    [ ${#missing[@]} -eq 0 ] || fail "not committed: ${missing[*]} (make figures REFERENCE=1)"
    [ "$kept" -gt 0 ] || fail "no embedded figure has its reference data committed"
}

# The words a figure shows (title, axis labels, key, stamp): what a figure drawn from other data,
# or drawn before a table it reads was committed, gets wrong. (Paths are left out: gnuplot may
# split the same line into segments differently.)
svg_words() { grep -oE '<(tspan|text)[^>]*>[^<]+<' "$1" | sed 's/<[^>]*>//; s/<$//'; }

@test "every reference figure redrawn from the committed data shows the same words: none is stale" {
    requires command gnuplot
    local script name data out="$BATS_TEST_TMPDIR/figures" stale=() compared=0
    for script in "$KIT_ROOT"/plots/ch*.gp; do
        name=$(basename "$script" .gp)
        git -C "$KIT_ROOT" ls-files --error-unmatch "plots/reference/$name.svg" >/dev/null 2>&1 ||
            continue
        data="$KIT_ROOT/plots/reference/data"
        [ -d "$data/$name-peers" ] && data="$data/$name-peers"   # the Python twins' figures
        "$KIT_ROOT/harness/plot.sh" --svg-only --data "$data" --out "$out" "$script" >/dev/null 2>&1
        [ -s "$out/$name.svg" ] || { stale+=("$name (not drawn)"); continue; }
        cmp -s <(svg_words "$KIT_ROOT/plots/reference/$name.svg") <(svg_words "$out/$name.svg") ||
            stale+=("$name")
        compared=$((compared + 1))
    done
    [ ${#stale[@]} -eq 0 ] || fail "redraw with harness/plot.sh --data plots/reference/data: ${stale[*]}"
    [ "$compared" -ge 30 ] || fail "only $compared reference figures compared"
}
