#!/usr/bin/env bash
# book-html.sh - what `make book-html` does: book.md as one standalone HTML page.
#
# Usage: harness/book-html.sh [OUT]    (default: build/book.html)
#   pandoc renders book.md (its own contents list included) with highlighted code, and inlines every
#   figure, so the page can be mailed or put on a course site as one file.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-build/book.html}
command -v pandoc >/dev/null || { echo "book-html: pandoc is not installed (make deps)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
# Links to the kit's source files work in the repository (GitHub, an editor); a standalone page
# has no files beside it, so there they become plain code.
sed -E 's/\[([^]]+)\]\(chapters\/[^)]+\)/\1/g' book.md |
pandoc --from gfm+tex_math_dollars --standalone --self-contained \
    --highlight-style tango --to html5 \
    --metadata pagetitle="Multiprocessing performance from first principles" \
    --resource-path . --output "$tmp"
mv "$tmp" "$out"
echo "book: $out ($(grep -o '<img ' "$out" | wc -l) figures inlined)"
