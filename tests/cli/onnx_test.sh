#!/bin/bash
# End-to-end cases of `nablas export F.onnx` and `nablas import F.onnx` (docs/onnx.md); run by
# meson test with $NABLAS, $PYTHON and $SRC set, only in a build with the onnx feature.
# Usage: onnx_test.sh CASE
. "$(dirname "$0")/harness.sh"

case $case_name in
onnx_round_trip)
    # a classifier with standardisation, class and column names: export, import, the same model
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 200 blobs.csv
    run 0 train --data blobs.csv --label-column species --layers 12:gelu,8:silu,3 --epochs 3 \
        --batch 16 --lr 0.05 --seed 5 --standardize --out m.nbm
    run 0 export m.nbm m.onnx
    has out "exported 3 layers"
    has out "input standardisation as Sub/Div"
    has out "ONNX opset 13"
    run 0 import m.onnx --out back.nbm
    has out "imported 4-12:gelu,8:silu,3:identity network"
    has out "input standardisation"
    run 0 info m.nbm
    tail -n +3 out >a
    run 0 info back.nbm
    tail -n +3 out >b
    diff a b >/dev/null || { diff a b >&2; fail "nablas info differs after the round trip"; }
    run 0 predict --model m.nbm --data blobs.csv --label-column species --out p1.csv
    run 0 predict --model back.nbm --data blobs.csv --label-column species --out p2.csv
    cmp -s p1.csv p2.csv || fail "predictions differ after the round trip"
    # --loss overrides the file's; --layers is for safetensors
    run 0 import m.onnx --out mse.nbm --loss mse
    run 0 info mse.nbm
    has out "mse"
    run 2 import m.onnx --out x.nbm --layers 12:gelu,8:silu,3
    one_line
    has err "--layers is for safetensors files"
    ;;
onnx_errors)
    # not ONNX, a refused graph (the node named, nothing written), a missing file
    printf 'not a protobuf \377\377\377\377\377\377\377\377\377\377' >junk.onnx
    run 1 import junk.onnx --out x.nbm
    one_line
    has err "junk.onnx: not a valid ONNX (protobuf) model"
    [ ! -e x.nbm ] || fail "a model was written for junk"
    run 1 import missing.onnx --out x.nbm
    has err "cannot read missing.onnx"
    # export into a missing directory fails, with one line
    "$PYTHON" "$SRC/tools/make_blobs.py" --rows 60 blobs.csv
    run 0 train --data blobs.csv --label-column species --layers 3 --epochs 1 --out m.nbm
    run 1 export m.nbm no/such/dir/m.onnx
    one_line
    # a graph with an op nablas lacks, made with Debian's python3-onnx (skipped without it)
    if ! /usr/bin/python3 - <<'PY'; then echo "python3-onnx missing: the refused-graph check is skipped"; echo "ok ($case_name)"; exit 0; fi
import sys
try:
    import onnx
    from onnx import TensorProto, helper
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(1)
g = helper.make_graph(
    [helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="dense"),
     helper.make_node("HardSwish", ["z"], ["y"], name="hs")], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
    initializer=[helper.make_tensor("W", TensorProto.FLOAT, [2, 1], [1.0, 2.0]),
                 helper.make_tensor("b", TensorProto.FLOAT, [1], [0.5])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), "hs.onnx")
PY
    run 1 import hs.onnx --out x.nbm
    one_line
    has err "hs.onnx: node 'hs' (HardSwish): op 'HardSwish' is not read"
    [ ! -e x.nbm ] || fail "a model was written for a refused graph"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
