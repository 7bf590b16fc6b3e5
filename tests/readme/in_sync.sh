#!/bin/sh
# A page (README.md or one of docs/) must show an example file verbatim: the fenced block that
# follows the marker line "<!-- example: examples/NAME.c -->".  Usage: in_sync.sh PAGE.md examples/NAME.c
set -eu
readme=$1
example=$2
marker="<!-- example: examples/$(basename "$example") -->"
grep -qxF "$marker" "$readme" || { echo "$readme has no line '$marker'" >&2; exit 1; }
awk -v m="$marker" '$0 == m {found = 1; getline; next}
     found && /^```$/ {exit}
     found' "$readme" | diff -u "$example" - && echo "$(basename "$readme") shows $(basename "$example") as it is"
