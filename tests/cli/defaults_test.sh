#!/bin/bash
# nablas train with only the data and the target (docs/cli.md, "Defaults"): good models on raw
# iris and raw diabetes, the stop rule (and its resume), and the warning with a hint after a
# run no better than the baseline.  Run by meson test with $NABLAS, $PYTHON and $SRC set.
# Usage: defaults_test.sh CASE
. "$(dirname "$0")/harness.sh"
SKPY=/usr/bin/python3   # Debian's python3-sklearn (tools/setup.sh installs it)
# the split of seed 1 of tools/compare-sklearn.py (docs/defaults-vs-sklearn.md)
sklearn_data() {
    "$SKPY" -c 'import sklearn' 2>/dev/null || { echo "python3-sklearn is missing: bash tools/setup.sh"; exit 77; }
    "$SKPY" "$SRC/tools/compare-sklearn.py" --csv . --seeds 1 >/dev/null || fail "the CSV files"
}
IRIS=(--data iris_train.csv --label-column species)
DIAB=(--data diabetes_train.csv --target-columns progression)
# the number after "$2" on the line of file $1 that starts with it
value() { awk -v k="$2" '$1 == k { sub("%", "", $2); print $2 }' "$1"; }
r2() { awk '$1 == "overall" { print $4 }' "$1"; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' || fail "$3: $1 is below $2"; }

case $case_name in
iris)
    sklearn_data
    run 0 train "${IRIS[@]}" --out iris.nbm
    [ ! -s err ] || { cat err >&2; fail "a good run warned"; }
    has out "training 4-100:relu,3 network on 112 rows (0 for validation), 803 parameters"
    has out "optimizer adam, lr 0.001, schedule constant, no clipping"
    run 0 eval --model iris.nbm --data iris_test.csv --label-column species
    # MLPClassifier() reaches 0.8947 on this split; nablas 0.9737
    at_least "$(value out accuracy)" 90 "test accuracy (%)"
    ;;
diabetes)
    sklearn_data
    run 0 train "${DIAB[@]}" --out diabetes.nbm
    [ ! -s err ] || { cat err >&2; fail "a good run warned"; }
    has out "targets standardised (mean and std stored in the model)"
    has out "training 10-100:relu,1 network on 331 rows"
    run 0 eval --model diabetes.nbm --data diabetes_test.csv --target-columns progression
    # MLPRegressor() reaches 0.3082 on this split; nablas 0.366
    at_least "$(r2 out)" 0.30 "test R²"
    # the old defaults, spelled out, still give the old model: plain SGD, raw features
    run 0 train "${DIAB[@]}" --optimizer sgd --lr 0.01 --epochs 20 --batch 32 --no-standardize \
        --standardize-targets --out old.nbm
    has out "optimizer sgd, lr 0.01"
    ;;
bad_run)
    sklearn_data
    # the targets left raw: worse than their mean; the hint names the flag that helps, and the
    # model is still written (a warning, exit 0)
    run 0 train "${DIAB[@]}" --no-standardize-targets --out m.nbm
    one_line
    has err "nablas train: warning: a bad model: R² -"
    has err "worse than predicting the targets' mean; the targets are large"
    has err "try --standardize-targets in place of --no-standardize-targets"
    [ -s m.nbm ] || fail "no model written"
    # the issue's run: plain SGD on raw targets with --standardize given diverges; the hint is
    # --standardize-targets, never the --standardize already given
    run 1 train "${DIAB[@]}" --optimizer sgd --lr 0.01 --epochs 20 --batch 32 --standardize \
        --no-standardize-targets --out d.nbm
    one_line
    has err "training diverged (the loss is not finite): the targets are large"
    has err "try --standardize-targets in place of --no-standardize-targets; no model written"
    ! grep -q -- "try --standardize " err || fail "the hint suggests --standardize, given"
    [ ! -e d.nbm ] || fail "a diverged model was written"
    # raw features: the hint is --standardize
    run 0 train "${DIAB[@]}" --optimizer sgd --lr 0.01 --epochs 20 --batch 32 --no-standardize \
        --out f.nbm
    has err "the features are not standardised: try --standardize in place of --no-standardize"
    # a rate too high: the hint lowers it (nothing else is off)
    run 1 train "${IRIS[@]}" --optimizer sgd --lr 100 --out i.nbm
    has err "training diverged (the loss is not finite): try a --lr below the 100 given"
    run 0 train "${DIAB[@]}" --lr 1 --out l.nbm
    has err "try a --lr below the 1 given"
    # too short: not above the most frequent class; the hint is more epochs
    run 0 train "${IRIS[@]}" --epochs 1 --lr 0.0001 --out e.nbm
    one_line
    has err "not above the 0.3661 of always answering the most frequent class; try more --epochs than the 1 given"
    # hints never name a flag the user gave in the form they gave it
    for f in err; do ! grep -q -- "try --epochs\|try --lr 0" "$f" || fail "hint repeats a given flag"; done
    ;;
stop_rule)
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 blobs.csv >/dev/null
    B=(--data blobs.csv --label-column species --lr 0.05)
    run 0 train "${B[@]}" --out a.nbm
    has out "stopped after epoch 69: the training loss did not improve by 0.0001 for 10 epochs"
    ! grep -q "epoch 70/" out || fail "trained past the stop"
    # --epochs given: exactly that many, no stop rule
    run 0 train "${B[@]}" --epochs 80 --out e.nbm
    has out "epoch 80/80"
    ! grep -q "stopped after" out || fail "the stop rule with --epochs"
    # killed before the stop and resumed: the uninterrupted run's model, byte for byte
    (NABLAS_TEST_STOP_AFTER=50 "$NABLAS" train "${B[@]}" --checkpoint c.nbc --out b.nbm >/dev/null 2>&1) 2>/dev/null
    [ ! -e b.nbm ] || fail "a killed run wrote its model"
    run 0 train "${B[@]}" --checkpoint c.nbc --resume c.nbc --out b.nbm
    has out "stopped after epoch 69"
    cmp a.nbm b.nbm || fail "resumed before the stop: another model"
    # killed at the epoch the rule stops: the resume trains nothing
    (NABLAS_TEST_STOP_AFTER=69 "$NABLAS" train "${B[@]}" --checkpoint s.nbc --out c.nbm >/dev/null 2>&1) 2>/dev/null
    run 0 train "${B[@]}" --resume s.nbc --out c.nbm
    has err "the training loss had stopped improving after epoch 69: nothing to train"
    cmp a.nbm c.nbm || fail "resumed at the stop: another model"
    # the rule is part of the run: resuming with --epochs is another run
    run 2 train "${B[@]}" --epochs 200 --resume c.nbc --out d.nbm
    has err "--stop-on-training-loss differs"
    ;;
options)
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 blobs.csv >/dev/null
    B=(--data blobs.csv --label-column species --out m.nbm)
    run 2 train "${B[@]}" --standardize --no-standardize
    has err "--standardize and --no-standardize contradict each other"
    run 2 train "${B[@]}" --standardize-targets --no-standardize-targets
    has err "contradict each other"
    run 2 train "${B[@]}" --momentum 0.9
    one_line
    has err "--momentum is for --optimizer sgd or rmsprop, and the default optimizer is adam: add --optimizer sgd"
    run 0 train "${B[@]}" --momentum 0.9 --optimizer sgd --epochs 2
    run 2 train "${B[@]}" --standardize-targets
    has err "--standardize-targets is for regression targets"
    # a classifier's stored standardisation: features only
    run 0 train "${B[@]}" --epochs 2
    run 0 info m.nbm
    has out "standardis"
    run 0 train --help
    has out "default 100:relu and one output per class or target column"
    has out "--no-standardize-targets"
    ;;
*)
    fail "unknown case"
    ;;
esac
exit 0
