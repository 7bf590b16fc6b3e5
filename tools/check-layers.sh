#!/usr/bin/env bash
# Fails when a library source includes a private header from a layer above its own.
# The layers, lowest first (docs/conventions.md): a folder may include its own headers and those
# of the folders before it in this list, never one after it.
set -euo pipefail
cd "$(dirname "$0")/../src"
layers=(core data kernels optim net train persist mpi cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }

bad=0
while IFS= read -r file; do
  dir=${file%%/*}
  [ "$dir" = "$file" ] && { echo "check-layers: $file: sources belong in a layer folder" >&2; bad=1; continue; }
  own=$(rank "$dir")
  [ "$own" -ge 0 ] || { echo "check-layers: $file: folder '$dir' is not a layer (tools/check-layers.sh)" >&2; bad=1; continue; }
  while IFS=: read -r line inc; do
    target=${inc%%/*}
    [ "$target" = "$inc" ] && { echo "check-layers: $file:$line: \"$inc\": name private headers by folder" >&2; bad=1; continue; }
    r=$(rank "$target")
    if [ "$r" -lt 0 ] || [ "$r" -gt "$own" ]; then
      echo "check-layers: $file:$line: $dir/ includes \"$inc\" from a layer above it" >&2
      bad=1
    fi
  done < <(grep -n -o -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$file" \
           | sed -E 's/^([0-9]+):.*"([^"]+)"/\1:\2/' | grep -v ':nablas')
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)
[ "$bad" -eq 0 ] && echo "check-layers: no upward include"
exit "$bad"
