#!/usr/bin/env bash
# `nablas --version` prints the version of the library it runs with (nb_version), which is the
# project's version in meson.build.  Environment: NABLAS (the command), SRC (the source tree).
set -euo pipefail
want=$(sed -n "s/^  version : '\([0-9.]*\)',$/\1/p" "$SRC/meson.build")
[ -n "$want" ] || { echo "FAIL: no version in $SRC/meson.build" >&2; exit 1; }
got=$("$NABLAS" --version)
[ "$got" = "nablas $want" ] || { echo "FAIL: nablas --version printed '$got', expected 'nablas $want'" >&2; exit 1; }
echo "nablas --version: $got"
