#!/bin/bash
# nablas import of ordinary PyTorch state_dict key names (net.0.weight, fc1.weight, named
# submodules), --order and --skip, refusals that name the key, and export -> import round trips
# that keep the standardisations, the loss and the class and column names (docs/safetensors.md).
# Run by meson test with $NABLAS, $PYTHON and $SRC set.  Usage: import_names_test.sh CASE
. "$(dirname "$0")/harness.sh"
blobs() { "$PYTHON" "$SRC/tools/make_blobs.py" --rows 300 "${1:-blobs.csv}"; }

# st.py OUT KEY:OUT:IN ...: a safetensors file of F32 weights [OUT, IN] (a bias when IN is 0),
# written in the order given, values a small counting pattern; no metadata.
cat > st.py <<'PY'
import json, struct, sys
header, data = {}, b""
for spec in sys.argv[2:]:
    key, out, inp = spec.rsplit(":", 2)
    shape = [int(out), int(inp)] if int(inp) else [int(out)]
    n = shape[0] * (shape[1] if len(shape) == 2 else 1)
    vals = [((len(data) // 4 + i) % 7 - 3) * 0.125 for i in range(n)]
    header[key] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + 4 * n]}
    data += struct.pack("<%df" % n, *vals)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + data)
PY

case $case_name in
roundtrip_regression) # standardisations and column names: the same predictions, byte for byte
    "$PYTHON" - <<'PY'
import math, random
random.seed(4)
with open("reg.csv", "w") as f:
    f.write("height,temp,dose,yield,loss_rate\n")
    for _ in range(200):
        h, t, d = random.gauss(50, 10), random.gauss(-3, 0.2), random.uniform(0, 9)
        f.write(f"{h:.5g},{t:.5g},{d:.5g},{300 + 40 * math.tanh((h - 50) / 10 + d / 5):.6g},"
                f"{0.01 * t * d:.6g}\n")
PY
    run 0 train --data reg.csv --target-columns yield,loss_rate --layers 12:tanh,2 --epochs 10 \
        --standardize --standardize-targets --seed 3 --out m.nbm
    run 0 export m.nbm m.safetensors
    has out "exported 2 layers (74 parameters, input standardisation in the metadata, target standardisation in the metadata) to m.safetensors as 0.* 2.*"
    run 0 import m.safetensors --out back.nbm
    has out "imported 3-12:tanh,2:identity network (74 parameters) with an input standardisation, a target standardisation, column names from m.safetensors"
    for f in csv npy; do
        run 0 predict --model m.nbm --data reg.csv --out a.$f
        run 0 predict --model back.nbm --data reg.csv --out b.$f
        cmp -s a.$f b.$f || fail "predictions ($f) differ after export + import"
    done
    head -1 b.csv | grep -q "yield" || fail "no target names in the predictions: $(head -1 b.csv)"
    # the eval of both models is the same text, but for the model's file name
    run 0 eval --model m.nbm --data reg.csv
    tail -n +2 out > e1
    run 0 eval --model back.nbm --data reg.csv
    tail -n +2 out | cmp -s e1 - || fail "eval differs after export + import"
    # --fold: PyTorch's form (raw inputs, targets' units); nablas reads it back to rounding
    run 0 export --fold m.nbm f.safetensors
    has out "standardisation folded into layer 0, target standardisation folded into the last layer"
    run 0 import f.safetensors --out fold.nbm
    has out "(74 parameters) with column names from f.safetensors"
    run 0 predict --model fold.nbm --data reg.csv --out c.csv
    "$PYTHON" - <<'PY' || fail "folded predictions differ"
import csv
a = [list(map(float, r[:2])) for r in list(csv.reader(open("b.csv")))[1:]]
c = [list(map(float, r[:2])) for r in list(csv.reader(open("c.csv")))[1:]]
assert len(a) == len(c) == 200
assert max(abs(x - y) / max(1, abs(x)) for ra, rc in zip(a, c) for x, y in zip(ra, rc)) <= 1e-5
PY
    run 2 export --fold m.nbm m.onnx
    one_line; has err "--fold is for safetensors files"
    ;;
roundtrip_classifier) # class names and the loss come back; the same predictions, byte for byte
    blobs
    run 0 train --data blobs.csv --label-column species --layers 16:relu,3 --epochs 5 \
        --standardize --seed 3 --out m.nbm
    run 0 export m.nbm m.safetensors
    run 0 import m.safetensors --out back.nbm
    has out "with an input standardisation, class names, column names from m.safetensors"
    run 0 info back.nbm
    has out "softmax"
    run 0 predict --model m.nbm --data blobs.csv --out a.csv
    run 0 predict --model back.nbm --data blobs.csv --out b.csv
    cmp -s a.csv b.csv || fail "classifier predictions differ after export + import"
    # --loss still overrides the file's; a file without metadata imports as before (mse, raw)
    run 0 import m.safetensors --loss mse --out mse.nbm
    "$PYTHON" - <<'PY' || fail "cannot strip the metadata"
import json, struct
b = open("m.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
del h["__metadata__"]
j = json.dumps(h).encode()
j += b" " * (-len(j) % 8)
open("plain.safetensors", "wb").write(struct.pack("<Q", len(j)) + j + b[8 + n:])
PY
    run 0 import plain.safetensors --layers 16:relu,3 --out plain.nbm
    has out "imported 4-16:relu,3:identity network (131 parameters) from plain.safetensors"
    ;;
state_dict_names) # net.0 ... net.10 in numeric order; fc1/fc2/out; submodules with --order
    keys=()
    w=5
    for i in 0 2 4 6 8 10; do keys+=("net.$i.weight:4:$w" "net.$i.bias:4:0"); w=4; done
    "$PYTHON" st.py seq.safetensors "${keys[@]}"
    run 0 import seq.safetensors --layers 4:relu,4:relu,4:relu,4:relu,4:relu,4 --out m.nbm
    has out "imported 5-4:relu,4:relu,4:relu,4:relu,4:relu,4:identity network (124 parameters)"
    # numeric order: net.10 is the last layer (a 4-wide first layer of net.10 would not fit 5 inputs)
    "$PYTHON" st.py seq2.safetensors net.10.weight:3:4 net.2.weight:4:5
    run 0 import seq2.safetensors --layers 4:relu,3 --out m.nbm
    has out "imported 5-4:relu,3:identity network"
    "$PYTHON" st.py attrs.safetensors out.weight:3:8 fc2.weight:8:16 fc1.weight:16:4 fc1.bias:16:0
    run 0 import attrs.safetensors --layers 16:relu,8:relu,3 --out m.nbm
    has out "imported 4-16:relu,8:relu,3:identity network"
    "$PYTHON" st.py enc.safetensors encoder.fc1.weight:10:6 encoder.fc2.weight:4:10 \
        decoder.out.weight:5:4
    run 1 import enc.safetensors --layers 10:tanh,4:tanh,5 --out m.nbm
    one_line
    has err "enc.safetensors: key 'encoder.fc1.weight' has shape [10,6], which does not follow 'decoder.out.weight' [5,4]"
    run 0 import enc.safetensors --layers 10:tanh,4:tanh,5 --order encoder.fc1,encoder.fc2,decoder.out --out m.nbm
    has out "imported 6-10:tanh,4:tanh,5:identity network"
    run 2 import enc.safetensors --layers 10:tanh,4:tanh,5 --order encoder.fc1,encoder.fc1 --out m.nbm
    one_line; has err "module 'encoder.fc1' is given twice in the order"
    run 2 import enc.safetensors --layers 10:tanh,4:tanh,5 --order encoder.fc1,,x --out m.nbm
    one_line; has err "an entry of the order is empty"
    run 2 import enc.safetensors --layers 10:tanh,4:tanh,5 --skip , --out m.nbm
    one_line; has err "an entry to skip is empty"
    run 1 import enc.safetensors --layers 10:tanh,5 --order encoder.fc1,decoder.out --out m.nbm
    one_line; has err "key 'encoder.fc2.weight' belongs to module 'encoder.fc2', which is not in the order given"
    [ ! -e x.nbm ] || fail "a model was written after an error"
    ;;
non_dense_refused) # BatchNorm statistics, a 1-D weight, an embedding: refused by key, --skip
    "$PYTHON" st.py bn.safetensors fc1.weight:8:4 bn.weight:8:0 bn.bias:8:0 bn.running_mean:8:0 \
        bn.running_var:8:0 fc2.weight:2:8
    run 1 import bn.safetensors --layers 8:relu,2 --out x.nbm
    one_line
    has err "bn.safetensors: key 'bn.running_mean' is not the weight or bias of a Linear layer (BatchNorm statistics: nablas has no batch normalisation): skip it by name"
    run 1 import bn.safetensors --layers 8:relu,2 --skip bn.running_mean,bn.running_var --out x.nbm
    one_line; has err "key 'bn.weight' has shape [8]: a Linear weight is 2-D (out x in)"
    run 0 import bn.safetensors --layers 8:relu,2 --skip bn --out m.nbm
    has out "imported 4-8:relu,2:identity network (58 parameters)"
    "$PYTHON" st.py emb.safetensors emb.weight:10:4 fc1.weight:8:4 fc2.weight:2:8
    run 1 import emb.safetensors --layers 10,8:relu,2 --out x.nbm
    one_line; has err "key 'fc1.weight' has shape [8,4], which does not follow 'emb.weight' [10,4]"
    run 0 import emb.safetensors --layers 8:relu,2 --skip emb --out m.nbm
    "$PYTHON" st.py b.safetensors fc1.weight:8:4 fc1.bias:3:0
    run 1 import b.safetensors --layers 8 --out x.nbm
    one_line; has err "key 'fc1.bias' has shape [3], its weight 'fc1.weight' [8,4] has 8 outputs"
    "$PYTHON" st.py o.safetensors fc1.bias:8:0
    run 1 import o.safetensors --layers 8 --out x.nbm
    one_line; has err "key 'fc1.bias' is a bias without a weight ('fc1.weight')"
    run 1 import bn.safetensors --layers 8:relu,2 --order fc1,fc3 --skip bn --out x.nbm
    one_line; has err "key 'fc2.weight' belongs to module 'fc2', which is not in the order given"
    [ ! -e x.nbm ] || fail "a model was written after an error"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
