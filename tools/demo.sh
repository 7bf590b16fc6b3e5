#!/usr/bin/env bash
# The main job: install what is missing, build nablas and run the demo on its built-in data.
# Arguments are passed to the demo (see: tools/demo.sh --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build
exec ./build/examples/nablas-demo "$@"
