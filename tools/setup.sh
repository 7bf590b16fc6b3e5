#!/usr/bin/env bash
# Installs what nablas needs from Debian's packages (as root, or through sudo) and nothing
# when everything is already there, so it is safe to run again.
#   tools/setup.sh            build, tests (with the MPI suite) and demo
#   tools/setup.sh --fuzz     also clang + libFuzzer runtime
#   tools/setup.sh --peers    also PyTorch, NumPy and FANN for bench/peers
#   tools/setup.sh --interop  also PyTorch, NumPy, python3-onnx and nodejs/npm for the interop
#                             tests (tools/test.sh does; tools/ort-setup.sh then fetches npm's
#                             onnxruntime-node)
#   tools/setup.sh --fortran  also gfortran for the Fortran module and its test (tools/test.sh does)
#   tools/setup.sh --digits   scikit-learn, whose package holds the 8x8 digits data set
#                             (tools/make_digits.py, docs/digits.md): now in the base set too
#   tools/setup.sh --static   also libgfortran's link library: OpenBLAS's
#                             `pkg-config --static --libs` names -lgfortran
set -euo pipefail

packages=(gcc libc6-dev meson ninja-build pkg-config libopenblas-dev liblapacke-dev libcriterion-dev zlib1g-dev
          libjansson-dev libdnnl-dev
          libprotobuf-c-dev protobuf-c-compiler # the optional -Donnx feature (ONNX import/export)
          libopenmpi-dev openmpi-bin # Open MPI: the optional -Dmpi feature and its test suite
          g++ # the mpi suite compiles a C++ program that includes <nablas/mpi.h>
          libgsl-dev # GSL: the optional -Dgsl feature, only for examples/deriv_newton.c (not the library)
          python3 python3-sklearn # scikit-learn's iris and diabetes: tests/cli/defaults_test.sh, docs/first-hour.md
          strace procps) # strace: tests/cli delays a save with it to signal it mid-write; procps: pkill finds the process under strace
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --peers) packages+=(python3 python3-torch python3-numpy libfann-dev) ;;
    --static) packages+=(libgfortran-12-dev) ;;
    --interop) packages+=(python3 python3-torch python3-numpy python3-onnx nodejs)
               # NodeSource's nodejs carries npm itself (and conflicts with Debian's npm)
               command -v npm >/dev/null || packages+=(npm) ;;
    --fortran) packages+=(gfortran) ;;
    --digits) packages+=(python3 python3-sklearn) ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "setup.sh: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
