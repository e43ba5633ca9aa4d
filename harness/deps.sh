#!/usr/bin/env bash
# deps.sh - check (and install) what the kit needs from Debian/Ubuntu packages.
#
# Usage: harness/deps.sh [check|test|chapter|install]
#   check    list what is missing; exit 2 if anything is
#   test     what `make test` needs: as root install the missing packages, otherwise
#            print the one command that would and exit 2
#   chapter  the same for `make chapterN`, but never fatal: a chapter runs without gnuplot
#   install  install the missing packages (as root, or through sudo)
set -euo pipefail

mode=${1:-test}
packages=(bats bats-support bats-assert parallel gnuplot-nox fonts-dejavu-core)
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
# Quietly: one line per package; apt's own output goes to a log, shown (and kept) on failure.
install_now() {
    local sudo=() log p
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    log=$(mktemp "${TMPDIR:-/tmp}/kit-deps.XXXXXX")
    for p in "${missing[@]}"; do echo "deps: installing $p" >&2; done
    if ! { "${sudo[@]}" apt-get -q update &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 \
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
test | chapter)
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        install_now
    else
        echo "deps: missing: ${missing[*]}" >&2
        echo "deps: install them with: sudo sh -c '$apt_line'  (or: make deps)" >&2
        [ "$mode" = chapter ] && exit 0
        exit 2
    fi ;;
*)
    echo "usage: harness/deps.sh [check|test|chapter|install]" >&2
    exit 2 ;;
esac
