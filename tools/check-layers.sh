#!/usr/bin/env bash
# Fails when a library source includes a header from a layer above its own: a private header
# (named by folder, "net/network.h") or a public one ("nablas/net.h", or the umbrella
# "nablas.h"), and when a public header includes one from a layer above its own.
# The layers, lowest first (docs/conventions.md): a folder may include its own headers and those
# of the folders before it in this list, never one after it.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=(core data kernels optim net train persist mpi cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }

# The layer of each public header: the lowest layer whose code it declares (docs/conventions.md
# has the same table). The umbrella nablas.h includes all of them but mpi.h.
declare -A public=(
  [nablas/version.h]=core [nablas/status.h]=core [nablas/tensor.h]=core [nablas/rng.h]=core [nablas/threads.h]=core
  [nablas/data.h]=data
  [nablas/kernels.h]=kernels
  [nablas/optim.h]=optim
  [nablas/net.h]=net [nablas/precision.h]=net [nablas/infer.h]=net [nablas/metrics.h]=net
  [nablas/gradcheck.h]=net [nablas/deriv.h]=net
  [nablas/fullbatch.h]=train
  [nablas/model.h]=persist [nablas/safetensors.h]=persist [nablas/checkpoint.h]=persist
  [nablas/predict.h]=persist [nablas/onnx.h]=persist
  [nablas/mpi.h]=mpi
  [nablas.h]=persist
)

bad=0
# check FILE OWN-LAYER INCLUDE-PREFIX: each quoted include of FILE against OWN-LAYER; a public
# header's includes ("net.h" beside it) are read as "nablas/net.h".
check() {
  local file=$1 dir=$2 prefix=$3 own line inc layer target r
  own=$(rank "$dir")
  while IFS=: read -r line inc; do
    [ -z "$prefix" ] || [[ "$inc" == nablas/* ]] || inc=$prefix$inc
    if [ "$inc" = nablas.h ] || [[ "$inc" == nablas/* ]]; then
      layer=${public[$inc]:-}
      [ -n "$layer" ] || { echo "check-layers: $file:$line: \"$inc\" has no layer (tools/check-layers.sh)" >&2; bad=1; continue; }
      r=$(rank "$layer")
      if [ "$r" -gt "$own" ]; then
        echo "check-layers: $file:$line: $dir includes public \"$inc\" ($layer) from a layer above it" >&2
        bad=1
      fi
      continue
    fi
    target=${inc%%/*}
    [ "$target" = "$inc" ] && { echo "check-layers: $file:$line: \"$inc\": name private headers by folder" >&2; bad=1; continue; }
    r=$(rank "$target")
    if [ "$r" -lt 0 ] || [ "$r" -gt "$own" ]; then
      echo "check-layers: $file:$line: $dir/ includes \"$inc\" from a layer above it" >&2
      bad=1
    fi
  done < <(grep -n -o -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$file" \
           | sed -E 's/^([0-9]+):.*"([^"]+)"/\1:\2/')
}

while IFS= read -r file; do
  dir=${file#src/}; dir=${dir%%/*}
  [ "src/$dir" = "$file" ] && { echo "check-layers: $file: sources belong in a layer folder" >&2; bad=1; continue; }
  [ "$(rank "$dir")" -ge 0 ] || { echo "check-layers: $file: folder '$dir' is not a layer (tools/check-layers.sh)" >&2; bad=1; continue; }
  check "$file" "$dir" ""
done < <(find src -name '*.[ch]' | sort)

for file in include/nablas/*.h include/nablas/version.h.in; do
  h=nablas/${file##*/}; h=${h%.in}
  layer=${public[$h]:-}
  [ -n "$layer" ] || { echo "check-layers: $file has no layer (tools/check-layers.sh)" >&2; bad=1; continue; }
  check "$file" "$layer" "nablas/"
done
for h in "${!public[@]}"; do
  [ -f "include/$h" ] || [ -f "include/$h.in" ] || { echo "check-layers: include/$h is in the table but not in include/" >&2; bad=1; }
done

[ "$bad" -eq 0 ] && echo "check-layers: no upward include (private or public headers)"
exit "$bad"
