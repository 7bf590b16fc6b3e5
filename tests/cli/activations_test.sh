#!/bin/bash
# End-to-end cases for the activations GELU (erf and tanh forms), SiLU, softplus and ELU in the
# nablas command: the layer spec, training, the model file, info, and the safetensors round
# trip.  Run by meson test with $NABLAS, $PYTHON and $SRC set.  Usage: activations_test.sh CASE
. "$(dirname "$0")/harness.sh"

ACTS="gelu gelu_tanh silu softplus elu"

case $case_name in
train_each)
    # each new activation in both hidden layers trains the blobs to a high accuracy, and the
    # model file keeps it (info, then eval of the loaded model)
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 blobs.csv
    for a in $ACTS; do
        run 0 train --data blobs.csv --label-column species --layers "16:$a,8:$a,3" --epochs 40 \
            --batch 16 --lr 0.05 --seed 3 --standardize --out "$a.nbm"
        has out "training 4-16:$a,8:$a,3 network"
        run 0 info "$a.nbm"
        has out "$a"
        run 0 eval --model "$a.nbm" --data blobs.csv --label-column species
        acc=$(sed -n 's/^accuracy *\([0-9.]*\)%.*/\1/p' out)
        [ -n "$acc" ] || { cat out; fail "$a: no accuracy"; }
        awk -v a="$acc" 'BEGIN { exit !(a >= 90) }' || fail "$a: accuracy $acc% < 90%"
    done
    ;;
safetensors)
    # export names the activations in the metadata; import without --layers reads them back
    # and predicts the same bits
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 120 blobs.csv
    run 0 train --data blobs.csv --label-column species \
        --layers 8:gelu,8:gelu_tanh,8:silu,8:softplus,8:elu,3 --epochs 3 --optimizer sgd \
        --batch 32 --no-standardize --out m.nbm
    run 0 export m.nbm m.safetensors
    has out "as 0.* 2.* 4.* 6.* 8.* 10.*"
    grep -qF '"nablas.activations":"gelu,gelu_tanh,silu,softplus,elu,identity"' m.safetensors \
        || grep -qF '"nablas.activations": "gelu,gelu_tanh,silu,softplus,elu,identity"' m.safetensors \
        || fail "metadata lacks the activations"
    run 0 import m.safetensors --loss softmax-ce --out back.nbm
    has out "imported 4-8:gelu,8:gelu_tanh,8:silu,8:softplus,8:elu,3:identity network"
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out a.npy
    run 0 predict --model back.nbm --data blobs.csv --label-column species --out b.npy
    cmp -s a.npy b.npy || fail "predictions differ after export + import"
    ;;
error_spec)
    # an unknown name is refused with the list of the known ones; prefixes are not names
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 60 blobs.csv
    for bad in gelu2 gel silu_ swish GELU; do
        run 2 train --data blobs.csv --label-column species --layers "8:$bad,3" --out m.nbm
        has err "gelu, gelu_tanh, silu, softplus, elu"
        [ ! -e m.nbm ] || fail "$bad: a model was written"
    done
    ;;
*)
    fail "unknown case"
    ;;
esac
