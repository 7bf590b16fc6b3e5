#!/bin/bash
# End-to-end cases of the output and checkpoint guards: names escaped in the checkpoint's note,
# outputs re-checked at save time (a link swapped during the run), the sticky-directory rule for
# links, outputs that cannot be files refused before training, the reason of a failed write,
# --resume of a directory.  Run by meson test with $NABLAS, $PYTHON and $SRC set.
# Usage: cli_guard.sh CASE
set -u
case_name=$1
work=$(mktemp -d /tmp/nablas-guard-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
skip() { echo "SKIP ($case_name): $*"; exit 77; }
run() {
    local want=$1; shift
    "$NABLAS" "$@" >out 2>err
    local got=$?
    [ "$got" -eq "$want" ] || { cat out err >&2; fail "nablas $* exited $got, expected $want"; }
}
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks '$2'"; }; }
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}" >/dev/null; }
train_args=(train --data blobs.csv --label-column species --layers 8:relu,3 --batch 16 --lr 0.05
            --seed 3)

case $case_name in
note_escape)
    # a quoted column name holding a newline and an option line, and one with a backslash,
    # a tab and a control byte: the checkpoint's note keeps each on its own line, escaped, and
    # the run resumes
    printf 'a,b,"y\n--lr 5"\n' >d.csv
    for i in $(seq 1 40); do echo "$i,$((i % 3)),$((i % 2))" >>d.csv; done
    run 0 train --data d.csv --label-column 2 --layers 4,2 --epochs 2 --checkpoint c.ck --out m.nbm
    run 0 train --data d.csv --label-column 2 --layers 4,2 --epochs 4 --resume c.ck --out m2.nbm
    has out "resuming c.ck: 2 of 4 epochs done"
    run 0 info c.ck
    has out 'train options  --label-column y\n--lr 5'
    [ "$(grep -c '^\(train options\| \{15\}\)--lr ' out)" -eq 1 ] \
        || { cat out; fail "not one --lr line in the note: the name started one of its own"; }
    printf 'a,b,"t\\a\tb\001"\n' >e.csv
    for i in $(seq 1 40); do echo "$i,$((i % 3)),$((i % 2))" >>e.csv; done
    run 0 train --data e.csv --label-column 2 --layers 4,2 --epochs 1 --checkpoint e.ck --out e.nbm
    run 0 info e.ck
    has out 'train options  --label-column t\\a\tb\x01'
    run 0 train --data e.csv --label-column 2 --layers 4,2 --epochs 2 --resume e.ck --out e2.nbm
    has out "resuming e.ck: 1 of 2 epochs done"
    # another label column is still named as the difference, escaped
    run 2 train --data e.csv --label-column 1 --layers 4,3 --epochs 2 --resume e.ck --out e3.nbm
    has err '--label-column differs (checkpoint t\\a\tb\x01, now b)'
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
