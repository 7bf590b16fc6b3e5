#!/usr/bin/env bash
# Runs a test program under mpirun with NP ranks: run_mpi.sh NP PROGRAM [ARGS...]
# or reports the suite skipped: run_mpi.sh skip.
# Root may run it (--allow-run-as-root), ranks may outnumber cores (--oversubscribe), and a
# rank stuck in a collective fails the test after a timeout instead of hanging it.
set -euo pipefail
if [ "$1" = skip ]; then
  echo "mpi suite skipped: nablas was configured without MPI (-Dmpi=disabled, or Open MPI not found: tools/setup.sh installs it)"
  exit 77 # meson's SKIP
fi
np=$1; shift
exec timeout -k 10 "${MPI_TEST_TIMEOUT:-240}" \
  mpirun --allow-run-as-root --oversubscribe -np "$np" "$@"
