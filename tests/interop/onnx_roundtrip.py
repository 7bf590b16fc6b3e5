#!/usr/bin/python3
"""nablas <-> ONNX, end to end with the `nablas` command and the real tools.

Usage: onnx_roundtrip.py NABLAS SRCDIR CASE
  to_ort              models trained by `nablas train` (standardised inputs and targets, every
                      activation (GELU, its tanh form and SiLU as torch writes them: Div/Erf/
                      Add/Mul/Mul, Mul/Mul/Mul/Add/Mul/Tanh/Add/Mul/Mul, Sigmoid/Mul), a
                      softmax-ce classifier), `nablas export F.onnx`:
                      onnx.checker.check_model passes and ONNX Runtime (npm's onnxruntime-node
                      under Debian's nodejs) predicts as `nablas predict`; the import of the
                      export gives back the same model (`nablas info` and predictions)
  from_torch_opsetN   torch.onnx.export (N = 9, 13, 17) of Sequentials with each activation
                      (ReLU, LeakyReLU, Tanh, Sigmoid, GELU both forms, SiLU, Softplus, ELU)
                      (and Dropout, Flatten, a standardisation, Softmax / LogSoftmax at the end):
                      `nablas import` then `nablas predict` == PyTorch
  helper_graphs       graphs built with onnx.helper: MatMul + Add, Gemm with transA (after a
                      Transpose), transB, alpha and beta, initializers listed as inputs
                      (IR 3), raw versus typed data, float16 and float64, Constant nodes,
                      Reshape, Identity
  refusals            graphs nablas cannot represent are refused with the node's name and op
                      type, and no model file is written

Outputs must agree within 1e-5 * max(1, |reference|).  Exit 77 (meson: skipped) only when a tool
is missing: onnx / torch / numpy for Python (bash tools/setup.sh --interop), nodejs and npm's
onnxruntime-node for to_ort (installed with `npm install --ignore-scripts` into
$NABLAS_ORT_DIR, default ~/.cache/nablas/onnxruntime-node, by this script or
tools/ort-setup.sh)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print(f"SKIP: {e} (install python3-onnx and python3-numpy: bash tools/setup.sh --interop)")
    sys.exit(77)

TOL = 1e-5


def nablas(exe, *args, ok=True):
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        sys.exit(f"FAIL: nablas {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def compare(what, got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        sys.exit(f"FAIL: {what}: shape {got.shape}, want {want.shape}")
    rel = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
    print(f"{what}: {got.shape[0]} x {got.shape[1]}, |ref| up to {np.max(np.abs(want)):.3g}, "
          f"max |diff| / max(1, |ref|) = {rel:.3g}")
    if not rel <= TOL:
        sys.exit(f"FAIL: {what}: difference {rel} > {TOL}")


def predict(exe, model, X):
    np.save("x.npy", X.astype(np.float32))
    nablas(exe, "predict", "--model", model, "--data", "x.npy", "--out", "y.npy")
    return np.load("y.npy")


# ---- ONNX Runtime through node ----------------------------------------------------------------

def ort_module(srcdir):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        print("SKIP: nodejs is missing (bash tools/setup.sh --interop)")
        sys.exit(77)
    cache = os.environ.get("NABLAS_ORT_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nablas",
        "onnxruntime-node")
    mod = os.path.join(cache, "node_modules", "onnxruntime-node")
    if not os.path.isdir(mod):
        r = subprocess.run(["bash", os.path.join(srcdir, "tools", "ort-setup.sh"), cache],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isdir(mod):
            print(f"SKIP: onnxruntime-node is not installed in {cache} and npm could not "
                  f"install it: {r.stderr.strip()[-300:]}")
            sys.exit(77)
    return node, mod


def ort_predict(ort, srcdir, model, X):
    node, mod = ort
    X = np.ascontiguousarray(X, dtype="<f4")
    X.tofile("ort_in.f32")
    r = subprocess.run([node, os.path.join(srcdir, "tests", "interop", "ort_run.js"), mod, model,
                        "ort_in.f32", str(X.shape[0]), str(X.shape[1]), "ort_out.f32"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: ONNX Runtime on {model}: {r.stderr.strip()}")
    dims = json.loads(r.stdout.strip().splitlines()[-1])
    return np.fromfile("ort_out.f32", dtype="<f4").reshape(dims)


def to_ort(exe, srcdir):
    ort = ort_module(srcdir)
    rng = np.random.default_rng(3)
    n = 240
    X = np.column_stack([rng.normal(10, 3, n), rng.normal(-1, 0.5, n), rng.uniform(0, 4, n),
                         rng.normal(0, 1, n)]).astype(np.float32)
    t = np.tanh(0.2 * (X[:, 0] - 10) + X[:, 1] + 0.3 * X[:, 2] * X[:, 3])
    t2 = np.sin(X[:, 2]) + 0.1 * X[:, 0]
    label = (t > 0).astype(int) + (t2 > 1.2).astype(int)
    with open("r.csv", "w") as f:
        f.write("a,b,c,d,y,z\n")
        for row, u, v in zip(X, t, t2):
            f.write(",".join(f"{x:.6g}" for x in row) + f",{200 + 50 * u:.6g},{v:.6g}\n")
    with open("c.csv", "w") as f:
        f.write("a,b,c,d,label\n")
        for row, c in zip(X, label):
            f.write(",".join(f"{x:.6g}" for x in row) + f",k{c}\n")
    common = ["--epochs", "8", "--batch", "16", "--seed", "4", "--optimizer", "sgd"]
    models = [
        ("regression, --standardize, --standardize-targets",
         ["--data", "r.csv", "--target-columns", "y,z", "--layers", "16:tanh,8:leaky_relu,2",
          "--standardize", "--standardize-targets", "--lr", "0.02"]),
        ("relu / sigmoid / softmax, mse",
         ["--data", "r.csv", "--target-columns", "y,z", "--layers",
          "12:relu,8:sigmoid,2:softmax", "--lr", "0.02", "--no-standardize",
          "--no-standardize-targets"]),
        ("gelu / gelu_tanh / silu / softplus / elu, --standardize",
         ["--data", "r.csv", "--target-columns", "y,z", "--layers",
          "12:gelu,10:gelu_tanh,8:silu,6:softplus,5:elu,2", "--standardize",
          "--standardize-targets", "--lr", "0.005"]),
        ("classifier, softmax-ce, --standardize",
         ["--data", "c.csv", "--label-column", "label", "--layers", "10:relu,3",
          "--standardize", "--lr", "0.02"]),
    ]
    for what, args in models:
        nablas(exe, "train", *common, *args, "--out", "m.nbm")
        nablas(exe, "export", "m.nbm", "m.onnx")
        model = onnx.load("m.onnx")
        onnx.checker.check_model(model, full_check=True)
        if model.opset_import[0].version != 13:
            sys.exit(f"FAIL: opset {model.opset_import[0].version}")
        dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
        if not dim0.dim_param:
            sys.exit("FAIL: the batch dimension is not dynamic")
        want = predict(exe, "m.nbm", X)
        if np.ptp(want[:, 0]) < 1e-3 * max(1.0, float(np.max(np.abs(want[:, 0])))):
            sys.exit(f"FAIL: {what}: the trained model's outputs barely vary (a dead network "
                     "would hide differences)")
        compare(f"ONNX Runtime vs nablas predict ({what})", ort_predict(ort, srcdir, "m.onnx", X),
                want)
        compare(f"ONNX Runtime, 1 row ({what})", ort_predict(ort, srcdir, "m.onnx", X[:1]),
                want[:1])
        nablas(exe, "import", "m.onnx", "--out", "back.nbm")
        info_a = nablas(exe, "info", "m.nbm").stdout.splitlines()[1:]
        info_b = nablas(exe, "info", "back.nbm").stdout.splitlines()[1:]
        strip = [l for l in info_a if not l.startswith(("checksum", "model"))]
        if strip != [l for l in info_b if not l.startswith(("checksum", "model"))]:
            sys.exit("FAIL: the import of the export differs:\n" + "\n".join(info_a) + "\n---\n"
                     + "\n".join(info_b))
        compare(f"import of the export ({what})", predict(exe, "back.nbm", X), want)


# ---- torch.onnx.export --------------------------------------------------------------------------

def from_torch(exe, opset):
    try:
        import torch
    except ImportError as e:
        print(f"SKIP: {e} (install python3-torch: bash tools/setup.sh --interop)")
        sys.exit(77)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X = torch.randn(64, 5) * 2 + 1
    mean, std = torch.tensor([1.0, 0.5, -1, 2, 0]), torch.tensor([2.0, 1.5, 0.5, 3, 1])

    class Standardise(torch.nn.Module):
        def forward(self, x):
            return (x - mean) / std

    acts = {"relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU, "tanh": torch.nn.Tanh,
            "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU,
            "gelu_tanh": lambda: torch.nn.GELU(approximate="tanh"), "silu": torch.nn.SiLU,
            "softplus": torch.nn.Softplus, "elu": torch.nn.ELU}
    cases = []
    for name, act in acts.items():
        cases.append((name, [torch.nn.Linear(5, 16), act(), torch.nn.Linear(16, 8), act(),
                             torch.nn.Linear(8, 3)], False))
    cases += [
        ("softmax at the end, Dropout, Flatten",
         [torch.nn.Flatten(), torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Dropout(0.3),
          torch.nn.Linear(16, 4), torch.nn.Softmax(dim=1)], False),
        ("logsoftmax at the end", [torch.nn.Linear(5, 12), torch.nn.ReLU(),
                                   torch.nn.Linear(12, 4), torch.nn.LogSoftmax(dim=-1)], True),
        ("input standardisation, no bias", [Standardise(), torch.nn.Linear(5, 8, bias=False),
                                            torch.nn.Sigmoid(), torch.nn.Linear(8, 2)], False),
    ]
    for what, mods, log_probs in cases:
        model = torch.nn.Sequential(*mods).eval()
        with torch.no_grad():
            want = model(X).numpy()
        torch.onnx.export(model, X[:2], "t.onnx", opset_version=opset, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
        out = nablas(exe, "import", "t.onnx", "--out", "m.nbm").stdout
        if what in acts and f":{what}," not in out:
            sys.exit(f"FAIL: {what} was not read as that activation: {out}")
        got = predict(exe, "m.nbm", X.numpy())
        if log_probs:  # the model holds the logits with softmax-ce: predict gives probabilities
            want = np.exp(want)
        compare(f"torch.onnx.export opset {opset}: {what}", got, want)
        if what.startswith("input standardisation"):
            info = nablas(exe, "info", "m.nbm").stdout
            if "standardised inputs" not in info:
                sys.exit("FAIL: Sub/Div was not read as the input standardisation:\n" + info)


# ---- onnx.helper graphs -------------------------------------------------------------------------

def tensor(name, arr, dtype=np.float32, raw=True):
    arr = np.asarray(arr).astype(dtype)
    if raw:
        return numpy_helper.from_array(arr, name)
    if dtype == np.float16:  # onnx.helper stores the float16 bits in int32_data
        return helper.make_tensor(name, TensorProto.FLOAT16, arr.shape,
                                  arr.astype(np.float32).ravel().tolist())
    code = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
            np.int64: TensorProto.INT64}[dtype]
    return helper.make_tensor(name, code, arr.shape, arr.ravel().tolist())


def save_graph(path, nodes, inits, n_in, n_out, inputs_too=False, opset=13, ir=None):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])]
    if inputs_too:  # IR 3 exporters listed every initializer as a graph input
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    g = helper.make_graph(nodes, "g", inputs,
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", n_out])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    if ir:
        m.ir_version = ir
    onnx.checker.check_model(m)
    onnx.save(m, path)


def helper_graphs(exe):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    W1, b1 = rng.normal(size=(4, 6)), rng.normal(size=6)
    W2, b2 = rng.normal(size=(6, 3)), rng.normal(size=3)
    relu = lambda z: np.maximum(z, 0)
    ref = lambda W1, b1, W2, b2: relu(X @ W1 + b1) @ W2 + b2

    N = helper.make_node
    cases = []
    # MatMul + Add, raw float32 data
    cases.append(("MatMul + Add", [N("MatMul", ["x", "W1"], ["m1"], name="mm1"),
                                   N("Add", ["m1", "b1"], ["z1"], name="add1"),
                                   N("Relu", ["z1"], ["h1"], name="relu1"),
                                   N("MatMul", ["h1", "W2"], ["m2"], name="mm2"),
                                   N("Add", ["b2", "m2"], ["y"], name="add2")],
                  [tensor("W1", W1), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)],
                  {}, ref(W1, b1, W2, b2)))
    # Gemm with transA after a Transpose, transB, alpha and beta; typed float data
    a, beta = 0.5, 2.0
    cases.append(("Gemm transA/transB/alpha/beta, typed data",
                  [N("Transpose", ["x"], ["xt"], name="tr", perm=[1, 0]),
                   N("Gemm", ["xt", "W1t", "b1"], ["z1"], name="gemm1", transA=1, transB=1,
                     alpha=a, beta=beta),
                   N("Relu", ["z1"], ["h1"], name="relu1"),
                   N("Gemm", ["h1", "W2", "b2"], ["y"], name="gemm2")],
                  [tensor("W1t", W1.T, raw=False), tensor("b1", b1, raw=False),
                   tensor("W2", W2, raw=False), tensor("b2", b2, raw=False)], {},
                  relu(a * (X @ W1.astype(np.float32)) + beta * b1.astype(np.float32)) @ W2 + b2))
    # initializers listed as graph inputs (IR 3), float16 data (typed) and float64 (raw)
    h = lambda v: v.astype(np.float16).astype(np.float64)
    cases.append(("initializers as inputs, float16 typed + float64 raw",
                  [N("Gemm", ["x", "W1", "b1"], ["z1"], name="gemm1"),
                   N("Relu", ["z1"], ["h1"], name="relu1"),
                   N("Gemm", ["h1", "W2", "b2"], ["y"], name="gemm2")],
                  [tensor("W1", W1, np.float16, raw=False), tensor("b1", b1, np.float16),
                   tensor("W2", W2, np.float64), tensor("b2", b2, np.float64, raw=False)],
                  {"inputs_too": True, "ir": 3, "opset": 9}, ref(h(W1), h(b1), W2, b2)))
    # Constant nodes, Reshape to (-1, 4), Identity, a Div standardisation at the input
    cases.append(("Constant, Reshape, Identity, Sub/Div",
                  [N("Constant", [], ["mu"], name="c_mu", value=tensor("mu", [1, 2, 3, 4])),
                   N("Constant", [], ["sd"], name="c_sd", value_floats=[2.0, 4.0, 0.5, 1.0]),
                   N("Constant", [], ["shape"], name="c_shape",
                     value=tensor("shape", [-1, 4], np.int64)),
                   N("Reshape", ["x", "shape"], ["xr"], name="reshape"),
                   N("Sub", ["xr", "mu"], ["xc"], name="sub"),
                   N("Div", ["xc", "sd"], ["xs"], name="div"),
                   N("Identity", ["xs"], ["xi"], name="ident"),
                   N("Gemm", ["xi", "W1", "b1"], ["z1"], name="gemm1"),
                   N("Relu", ["z1"], ["h1"], name="relu1"),
                   N("Gemm", ["h1", "W2", "b2"], ["y"], name="gemm2")],
                  [tensor("W1", W1), tensor("b1", b1), tensor("W2", W2), tensor("b2", b2)], {},
                  None))
    for what, nodes, inits, kw, want in cases:
        save_graph("h.onnx", nodes, inits, 4, 3, **kw)
        nablas(exe, "import", "h.onnx", "--out", "m.nbm")
        if want is None:  # the reference from the file itself, in double
            Xs = (X - np.array([1, 2, 3, 4])) / np.array([2.0, 4.0, 0.5, 1.0])
            want = relu(Xs @ W1.astype(np.float32) + b1.astype(np.float32)) @ W2 + b2
            if "standardised inputs" not in nablas(exe, "info", "m.nbm").stdout:
                sys.exit("FAIL: Sub/Div with Constant nodes was not read as a standardisation")
        compare(f"onnx.helper: {what}", predict(exe, "m.nbm", X), want)


def refusals(exe):
    rng = np.random.default_rng(6)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    N = helper.make_node
    base = [tensor("W", W), tensor("b", b)]
    cases = [
        ("a Conv", [N("Conv", ["x", "W"], ["y"], name="conv0")], "conv0", "Conv"),
        ("LeakyRelu alpha 0.2", [N("Gemm", ["x", "W", "b"], ["z"], name="g"),
                                 N("LeakyRelu", ["z"], ["y"], name="lrelu", alpha=0.2)],
         "lrelu", "LeakyRelu"),
        ("Softmax over the batch", [N("Gemm", ["x", "W", "b"], ["z"], name="g"),
                                    N("Softmax", ["z"], ["y"], name="sm", axis=0)], "sm",
         "Softmax"),
        ("a branch", [N("Gemm", ["x", "W", "b"], ["z"], name="g"),
                      N("Relu", ["z"], ["r"], name="r"),
                      N("Add", ["r", "z"], ["y"], name="skip")], "skip", "Add"),
        ("Gemm with transA on row data", [N("Gemm", ["x", "W", "b"], ["y"], name="gt",
                                            transA=1)], "gt", "Gemm"),
        ("LogSoftmax not at the end", [N("Gemm", ["x", "W", "b"], ["z"], name="g"),
                                       N("LogSoftmax", ["z"], ["l"], name="ls", axis=1),
                                       N("Relu", ["l"], ["y"], name="after")], "after", "Relu"),
        ("an activation with no layer", [N("Relu", ["x"], ["r"], name="first"),
                                         N("Gemm", ["r", "W", "b"], ["y"], name="g")],
         "first", "Relu"),
    ]
    for what, nodes, node, op in cases:
        save_graph("r.onnx", nodes, base, 4, 3)
        if os.path.exists("m.nbm"):
            os.remove("m.nbm")
        r = nablas(exe, "import", "r.onnx", "--out", "m.nbm", ok=False)
        if r.returncode == 0 or f"'{node}' ({op})" not in r.stderr or os.path.exists("m.nbm"):
            sys.exit(f"FAIL: {what}: exit {r.returncode}, stderr {r.stderr.strip()!r}, "
                     f"model written: {os.path.exists('m.nbm')}")
        print(f"refused ({what}): {r.stderr.strip()}")


def main():
    exe, srcdir, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="nablas-onnx-") as work:
        os.chdir(work)
        if case == "to_ort":
            to_ort(exe, srcdir)
        elif case.startswith("from_torch_opset"):
            from_torch(exe, int(case[len("from_torch_opset"):]))
        elif case == "helper_graphs":
            helper_graphs(exe)
        elif case == "refusals":
            refusals(exe)
        else:
            sys.exit(f"unknown case {case}")


if __name__ == "__main__":
    main()
