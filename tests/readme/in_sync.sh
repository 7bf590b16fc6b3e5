#!/bin/sh
# README.md must show examples/readme_example.c verbatim: the fenced block that follows the
# marker line "<!-- example: examples/readme_example.c -->".
set -eu
readme=$1
example=$2
awk '/<!-- example: examples\/readme_example.c -->/ {found = 1; getline; next}
     found && /^```$/ {exit}
     found' "$readme" | diff -u "$example" - && echo "README example in sync"
