#!/usr/bin/env bash
# Checks the two ways to embed nablas that the README documents:
#  1. installed: meson install into a prefix, the installed `nablas` started from it, then the
#     README's example built with pkg-config,
#     against the shared and the static library, and run; with MPI built, a small program
#     against libnablas-mpi (pkg-config nablas-mpi) under mpirun -np 2;
#     the Fortran module through pkg-config nablas-fortran (with gfortran);
#  2. as a Meson subproject of another project (dependency('nablas') via override_dependency,
#     and dependency('nablas-fortran')), which gets none of nablas' tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --static # the static link below needs -lgfortran (from OpenBLAS's .pc)
src=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meson setup "$work/build" --prefix="$work/prefix" -Dtests=disabled -Dexamples=false >/dev/null
meson install -C "$work/build" >/dev/null
export PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name nablas.pc)")
# every public header is installed (mpi.h only with the MPI feature)
for h in include/nablas/*.h; do
  [ "$h" = include/nablas/mpi.h ] && continue
  [ -n "$(find "$work/prefix" -path "*/include/$h" -o -path "*/${h#include/}" | head -1)" ] \
    || { echo "embed-check: $h is not installed (include/meson.build)" >&2; exit 1; }
done
cc -std=c11 -Wall -Wextra -Werror examples/readme_example.c -o "$work/ex-shared" \
   $(pkg-config --cflags --libs nablas) -Wl,-rpath,"$(pkg-config --variable=libdir nablas)"
cc -std=c11 -Wall -Wextra -Werror examples/readme_example.c -o "$work/ex-static" \
   $(pkg-config --cflags nablas) "$(pkg-config --variable=libdir nablas)/libnablas.a" \
   $(pkg-config --static --libs nablas | sed 's/-lnablas//')
"$work/ex-shared" >/dev/null
"$work/ex-static" >/dev/null
echo "embed-check: installed library OK (pkg-config, shared and static)"
# the installed command starts from its prefix, without LD_LIBRARY_PATH (its install rpath)
env -u LD_LIBRARY_PATH "$work/prefix/bin/nablas" --version >/dev/null \
  || { echo "embed-check: the installed nablas does not start" >&2; exit 1; }
echo "embed-check: installed nablas starts"
if command -v gfortran >/dev/null && pkg-config --exists nablas-fortran; then
  # the installed Fortran module: compile nablas.f90 (module_source) with the program
  (cd "$work" && gfortran "$(pkg-config --variable=module_source nablas-fortran)" \
     "$src/examples/fortran_example.f90" -o "$work/ex-fortran" $(pkg-config --libs nablas-fortran) \
     -Wl,-rpath,"$(pkg-config --variable=libdir nablas)" && "$work/ex-fortran" >/dev/null)
  echo "embed-check: installed Fortran module OK (pkg-config nablas-fortran)"
fi

if pkg-config --exists nablas-mpi; then # built with the MPI feature: libnablas-mpi as installed
  cat > "$work/mpi_ex.c" <<'C'
#include <nablas.h>
#include <nablas/mpi.h>
int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    float x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, t[8] = {1, 3, 5, 7, 9, 11, 13, 15};
    nb_tensor X = nb_tensor_view(x, 8, 1), T = nb_tensor_view(t, 8, 1);
    nb_layer_spec L[] = {{1, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL;
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 3;
    nb_status s = nb_net_create(&net, 1, L, 1, 1);
    if (s == NB_OK)
        s = nb_mpi_train(net, MPI_COMM_WORLD, &X, &T, &o, NULL);
    nb_net_free(net);
    MPI_Finalize();
    return s != NB_OK;
}
C
  cc -std=c11 -Wall -Wextra -Werror "$work/mpi_ex.c" -o "$work/ex-mpi" \
     $(pkg-config --cflags --libs nablas-mpi) -Wl,-rpath,"$(pkg-config --variable=libdir nablas)"
  mpirun --allow-run-as-root --oversubscribe -np 2 "$work/ex-mpi"
  echo "embed-check: installed nablas-mpi OK (pkg-config, mpirun -np 2)"
fi

mkdir -p "$work/user/subprojects"
ln -s "$src" "$work/user/subprojects/nablas"
cp examples/readme_example.c "$work/user/main.c"
cat > "$work/user/meson.build" <<'MESON'
project('user', 'c', default_options : ['c_std=c11'])
executable('user', 'main.c', dependencies : dependency('nablas'))
MESON
if command -v gfortran >/dev/null; then # the Fortran module through dependency('nablas-fortran')
  cp examples/fortran_example.f90 "$work/user/fmain.f90"
  cat >> "$work/user/meson.build" <<'MESON'
add_languages('fortran')
executable('fuser', 'fmain.f90', dependencies : dependency('nablas-fortran'))
MESON
fi
unset PKG_CONFIG_PATH # the user project must find nablas as a subproject, not installed
meson setup "$work/user/build" "$work/user" > "$work/user-setup.log" # no nablas options
grep -q "Dependency nablas found: YES .*(overridden)" "$work/user-setup.log"
# as a subproject nablas adds no tests, examples or benchmarks to the parent's build
if meson test -C "$work/user/build" --list 2>/dev/null | grep -q ' / '; then
  echo "embed-check: nablas added tests to its parent project" >&2
  exit 1
fi
meson compile -C "$work/user/build" >/dev/null
"$work/user/build/user" >/dev/null
if [ -x "$work/user/build/fuser" ]; then
  (cd "$work/user/build" && ./fuser >/dev/null)
  echo "embed-check: Fortran module as a Meson subproject dependency OK"
fi
echo "embed-check: Meson subproject OK (no tests, examples or benchmarks of nablas in the parent)"
