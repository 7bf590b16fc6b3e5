#!/usr/bin/env bash
# Checks the two ways to embed nablas that the README documents:
#  1. installed: meson install into a prefix, then the README's example built with pkg-config,
#     against the shared and the static library, and run;
#  2. as a Meson subproject of another project (dependency('nablas') via override_dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --static # the static link below needs -lgfortran (from OpenBLAS's .pc)
src=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meson setup "$work/build" --prefix="$work/prefix" -Dtests=disabled -Dexamples=false >/dev/null
meson install -C "$work/build" >/dev/null
export PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name nablas.pc)")
cc -std=c11 -Wall -Wextra -Werror examples/readme_example.c -o "$work/ex-shared" \
   $(pkg-config --cflags --libs nablas) -Wl,-rpath,"$(pkg-config --variable=libdir nablas)"
cc -std=c11 -Wall -Wextra -Werror examples/readme_example.c -o "$work/ex-static" \
   $(pkg-config --cflags nablas) "$(pkg-config --variable=libdir nablas)/libnablas.a" \
   $(pkg-config --static --libs nablas | sed 's/-lnablas//')
"$work/ex-shared" >/dev/null
"$work/ex-static" >/dev/null
echo "embed-check: installed library OK (pkg-config, shared and static)"

mkdir -p "$work/user/subprojects"
ln -s "$src" "$work/user/subprojects/nablas"
cp examples/readme_example.c "$work/user/main.c"
cat > "$work/user/meson.build" <<'MESON'
project('user', 'c', default_options : ['c_std=c11'])
executable('user', 'main.c', dependencies : dependency('nablas'))
MESON
unset PKG_CONFIG_PATH # the user project must find nablas as a subproject, not installed
meson setup "$work/user/build" "$work/user" -Dnablas:tests=disabled -Dnablas:examples=false \
  > "$work/user-setup.log"
grep -q "Dependency nablas found: YES .*(overridden)" "$work/user-setup.log"
meson compile -C "$work/user/build" >/dev/null
"$work/user/build/user" >/dev/null
echo "embed-check: Meson subproject OK"
