#!/usr/bin/env bash
# Runs the kernel and parity suites once per vector variant of the library: the AVX-512, AVX2
# and baseline clones that an ordinary build picks among at load time (src/core/base.h), each
# built alone with -Dvector_isa=... into build-isa-<variant>/. A variant this CPU cannot run is
# skipped with a message. Also checks that each build holds the instructions it should: 512-bit
# registers only in the AVX-512 build, none of 256 or 512 bits in the baseline one.
#   tools/clones.sh [variant...]     default: avx512 avx2 baseline
set -euo pipefail
cd "$(dirname "$0")/.."

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(avx512 avx2 baseline)

has_flag() { grep -qw "$1" /proc/cpuinfo; }
status=0
for v in "${variants[@]}"; do
  case "$v" in
    avx512) need=avx512f ;;
    avx2) need=avx2 ;;
    baseline) need= ;;
    *) echo "clones.sh: unknown variant $v (avx512, avx2, baseline)" >&2; exit 2 ;;
  esac
  if [ -n "$need" ] && ! has_flag "$need"; then
    echo "clones.sh: $v: this CPU lacks $need, skipped"
    continue
  fi
  dir=build-isa-$v
  [ -f "$dir/build.ninja" ] || meson setup "$dir" -Dwerror=true -Dvector_isa="$v" >/dev/null
  meson compile -C "$dir" >/dev/null
  lib=$(ls "$dir"/src/libnablas.so.* | head -n 1)
  zmm=$(objdump -d --no-show-raw-insn "$lib" | grep -c '%zmm' || true)
  ymm=$(objdump -d --no-show-raw-insn "$lib" | grep -c '%ymm' || true)
  case "$v" in
    avx512) ok=$([ "$zmm" -gt 0 ] && echo y || echo n) ;;
    avx2) ok=$([ "$zmm" -eq 0 ] && [ "$ymm" -gt 0 ] && echo y || echo n) ;;
    baseline) ok=$([ "$zmm" -eq 0 ] && [ "$ymm" -eq 0 ] && echo y || echo n) ;;
  esac
  echo "clones.sh: $v: $zmm instructions on zmm, $ymm on ymm registers in $(basename "$lib")"
  if [ "$ok" != y ]; then
    echo "clones.sh: $v: unexpected instruction set in the library" >&2
    status=1
  fi
  meson test -C "$dir" --no-rebuild --print-errorlogs --suite unit --suite parity || status=1
done
exit $status
