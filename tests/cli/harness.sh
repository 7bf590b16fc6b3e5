# The common start of the CLI test scripts, sourced by each (. "$(dirname "$0")/harness.sh"
# with the case as $1): a fresh work directory removed at exit, and the checks.  The scripts
# run under meson test with $NABLAS (the executable), $PYTHON and $SRC (the source root) set.
set -u
case_name=$1
work=$(mktemp -d /tmp/nablas-cli-XXXXXX)
cd "$work" || exit 1
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# run EXPECTED_STATUS ARGS...: runs nablas, keeps stdout/stderr in out/err, checks the status.
run() {
    local want=$1; shift
    "$NABLAS" "$@" >out 2>err
    local got=$?
    [ "$got" -eq "$want" ] || { cat out err >&2; fail "nablas $* exited $got, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks '$2'"; }; }
one_line() { [ "$(wc -l <err)" -eq 1 ] || { cat err >&2; fail "stderr is not one line"; }; }
