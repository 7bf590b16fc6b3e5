#!/usr/bin/env bash
# Installs ONNX Runtime for the interop tests: npm's onnxruntime-node (its CPU library ships in
# the package; --ignore-scripts skips the install script, which only fetches GPU builds) into
# DIR (default $NABLAS_ORT_DIR, else ~/.cache/nablas/onnxruntime-node).  Needs nodejs and npm
# (bash tools/setup.sh --interop) and the network once; does nothing when already installed.
set -euo pipefail
dir=${1:-${NABLAS_ORT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nablas/onnxruntime-node}}
[ -d "$dir/node_modules/onnxruntime-node" ] && exit 0
command -v npm >/dev/null || { echo "ort-setup.sh: npm is missing (bash tools/setup.sh --interop)" >&2; exit 1; }
mkdir -p "$dir"
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error onnxruntime-node
