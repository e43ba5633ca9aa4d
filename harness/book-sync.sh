#!/usr/bin/env bash
# book-sync.sh - keep the code excerpts in book.md identical to the sources.
#
# In a source file, an excerpt is the lines between two marker comments:
#     /* book:NAME */   ...   /* end:NAME */
# In book.md, a marker line is followed by a fenced code block holding those lines:
#     <!-- excerpt: chapters/01-fork/spawn.c NAME -->
#     ```c
#     ...
#     ```
# Usage: harness/book-sync.sh --check [BOOK]    exit 1 and show the difference if any excerpt drifted
#        harness/book-sync.sh --update [BOOK]   rewrite the excerpts from the sources
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-}
book=${2:-book.md}
case "$mode" in --check | --update) ;; *) echo "usage: harness/book-sync.sh --check|--update [BOOK]" >&2; exit 2 ;; esac
[ -f "$book" ] || { echo "book-sync: $book not found" >&2; exit 1; }

# The lines strictly between /* book:NAME */ and /* end:NAME */ in FILE.
excerpt() {
    local file=$1 name=$2
    [ -f "$file" ] || { echo "book-sync: $book names $file, which does not exist" >&2; return 1; }
    awk -v begin="/* book:$name */" -v end="/* end:$name */" '
        index($0, end) { inside = 0; closed = 1 }
        inside { print }
        index($0, begin) { inside = 1; found = 1 }
        END { exit !(found && closed) }' "$file" ||
        { echo "book-sync: $file has no complete '/* book:$name */ ... /* end:$name */' pair" >&2; return 1; }
}

# book.md with every excerpt block replaced by the current source text.
render() {
    local line in_block=0 expect_fence=0
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^\<!--\ excerpt:\ ([^ ]+)\ ([^ ]+)\ --\>$ ]]; then
            printf '%s\n' "$line"
            printf '```c\n'
            excerpt "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || return 1
            printf '```\n'
            expect_fence=1
            continue
        fi
        if [ $expect_fence -eq 1 ]; then
            expect_fence=0
            if [[ $line == '```'* ]]; then in_block=1; continue; fi
            echo "book-sync: an excerpt marker must be followed by a code block" >&2
            return 1
        fi
        if [ $in_block -eq 1 ]; then
            [[ $line == '```' ]] && in_block=0
            continue
        fi
        printf '%s\n' "$line"
    done <"$book"
}

fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
render >"$fresh"
count=$(grep -c '^<!-- excerpt: ' "$book" || true)
if [ "$mode" = --check ]; then
    if ! diff -u "$book" "$fresh" >&2; then
        echo "book-sync: excerpts in $book differ from the sources (above); run: make book" >&2
        exit 1
    fi
    echo "book-sync: $count excerpts in $book match their sources"
else
    cp "$fresh" "$book"
    echo "book-sync: $count excerpts in $book refreshed"
fi
