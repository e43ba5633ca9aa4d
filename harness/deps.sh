#!/usr/bin/env bash
# deps.sh - check (and install) what the kit needs from Debian/Ubuntu packages.
#
# Usage: harness/deps.sh [check|test|chapter|book|install]
#   check    list what is missing; exit 2 if anything is
#   test     what `make test` needs: as root install the missing packages, otherwise
#            print the one command that would and exit 2
#   chapter  the same for `make chapterN`, but never fatal: a chapter runs without gnuplot
#   book     the same for `make book-html` (pandoc)
#   install  install the missing packages (as root, or through sudo)
# Optional packages are installed where the distribution has them; where it does not, the tests
# that need them are skipped: pandoc and chromium-headless-shell (the HTML book and its test),
# python3-numpy and python3-psutil (the Python twins of chapters 8 and 9), mawk (chapter 10),
# openssh-server, openssh-client and rsync (the cluster script over ssh, tests/cluster.bats).
set -euo pipefail

mode=${1:-test}
packages=(bats bats-support bats-assert parallel gnuplot-nox fonts-dejavu-core)
optional_packages=(pandoc chromium-headless-shell python3-numpy python3-psutil mawk
    openssh-server openssh-client rsync)
case "$mode" in
chapter) ;;
book) packages=(pandoc) ;;
*) packages+=("${optional_packages[@]}") ;;
esac
command -v cc >/dev/null && command -v make >/dev/null || packages=(build-essential "${packages[@]}")

missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        if [ "$status" != installed ]; then
            # another gnuplot build (gnuplot-qt, gnuplot-x11) is as good as gnuplot-nox
            [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null && continue
            missing+=("$p")
        fi
    done
else
    for c in bats parallel gnuplot; do command -v "$c" >/dev/null || missing+=("$c"); done
fi

[ ${#missing[@]} -eq 0 ] && exit 0

apt_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends ${missing[*]}"
# An optional package this distribution does not have is left out, with a note.
drop_unavailable_optional_packages() {
    local kept=() p policy
    for p in "${missing[@]}"; do
        # read whole, not piped to grep -q: grep leaving at the first match would end apt-cache
        # by SIGPIPE, and under pipefail an available package would count as unavailable
        policy=$(apt-cache policy "$p" 2>/dev/null || true)
        if [[ " ${optional_packages[*]} " == *" $p "* && $policy != *"Candidate: "[0-9]* ]]; then
            echo "deps: $p is not available here; the tests that need it are skipped" >&2
            continue
        fi
        kept+=("$p")
    done
    missing=(${kept[@]+"${kept[@]}"})
}

# Quietly: one line per package; apt's own output goes to a log, shown (and kept) on failure.
install_now() {
    local sudo=() log p
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    log=$(mktemp "${TMPDIR:-/tmp}/kit-deps.XXXXXX")
    if ! "${sudo[@]}" apt-get -q update >"$log" 2>&1; then
        tail -5 "$log" >&2
        echo "deps: apt-get update failed; its full output is in $log" >&2
        exit 1
    fi
    drop_unavailable_optional_packages
    [ ${#missing[@]} -gt 0 ] || { rm -f "$log"; return 0; }
    for p in "${missing[@]}"; do echo "deps: installing $p" >&2; done
    if ! { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -5 "$log" >&2
        echo "deps: apt-get failed; its full output is in $log" >&2
        exit 1
    fi
    rm -f "$log"
}

case "$mode" in
check)
    echo "deps: missing: ${missing[*]}" >&2
    echo "deps: install them with: sudo sh -c '$apt_line'" >&2
    exit 2 ;;
install)
    install_now ;;
test | chapter | book)
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        install_now
    else
        echo "deps: missing: ${missing[*]}" >&2
        echo "deps: install them with: sudo sh -c '$apt_line'  (or: make deps)" >&2
        [ "$mode" = chapter ] && exit 0
        # without the optional packages, make test still runs; their tests are skipped
        for p in "${missing[@]}"; do
            [[ " ${optional_packages[*]} " == *" $p "* ]] || exit 2
        done
    fi ;;
*)
    echo "usage: harness/deps.sh [check|test|chapter|book|install]" >&2
    exit 2 ;;
esac
