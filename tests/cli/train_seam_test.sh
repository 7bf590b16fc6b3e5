#!/bin/bash
# End-to-end cases of the training seam: the trainer decides plain SGD's fused update from the
# options it is given (nablas train passes the optimizer it was asked for), and the validation
# rows are evaluated by the trainer (nb_epoch_info), whose checkpoint then knows the best epoch.
# Run by meson test with $NABLAS, $PYTHON and $SRC set.  Usage: train_seam_test.sh CASE
. "$(dirname "$0")/harness.sh"
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}"; }
B=(--data blobs.csv --label-column species --layers 16:relu,3 --epochs 4 --batch 16 --seed 3
   --standardize)

case $case_name in
plain_sgd_named)
    blobs
    # --optimizer sgd without momentum or decay is plain SGD, whose update the trainer fuses
    # into the backward pass: options that leave it plain (dampening acts on momentum only)
    # give the same bits, with and without a schedule; the record names what was asked
    run 0 train "${B[@]}" --lr 0.05 --optimizer sgd --out plain.nbm
    has out "optimizer sgd, lr 0.05, schedule constant, no clipping"
    run 0 train "${B[@]}" --lr 0.05 --optimizer sgd --dampening 0.5 --out named.nbm
    cmp plain.nbm named.nbm || fail "a plain SGD with dampening differs from plain SGD"
    run 0 train "${B[@]}" --lr 0.05 --schedule cosine --optimizer sgd --out plain_c.nbm
    run 0 train "${B[@]}" --lr 0.05 --schedule cosine --optimizer sgd --dampening 0.5 \
        --out named_c.nbm
    cmp plain_c.nbm named_c.nbm || fail "plain SGD with a schedule differs"
    # momentum is another update: another model
    run 0 train "${B[@]}" --lr 0.05 --optimizer sgd --momentum 0.5 --out momentum.nbm
    cmp -s plain.nbm momentum.nbm && fail "momentum changed nothing"
    true
    ;;
validation_by_trainer)
    blobs
    # the epoch lines show the trainer's validation figures; without --patience the run ends
    # as before, and its checkpoint records the best epoch so far
    run 0 train "${B[@]}" --lr 0.05 --validation 0.2 --checkpoint ck.nbm --out m.nbm
    [ "$(grep -c 'val_loss' out)" -eq 4 ] || { cat out; fail "not 4 epochs with val_loss"; }
    has out "val_acc"
    run 0 info ck.nbm
    has out "checkpoint     4 of 4 epochs done"
    has out "; best epoch "
    # the same run resumed from epoch 2 ends on the same model, byte for byte
    { NABLAS_TEST_STOP_AFTER=2 "$NABLAS" train "${B[@]}" --lr 0.05 --validation 0.2 \
        --checkpoint ck2.nbm --out never.nbm >out 2>err; } 2>/dev/null
    run 0 train "${B[@]}" --lr 0.05 --validation 0.2 --resume ck2.nbm --out resumed.nbm
    cmp m.nbm resumed.nbm || fail "the resumed run differs"
    ;;
*)
    fail "unknown case"
    ;;
esac
