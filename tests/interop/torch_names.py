#!/usr/bin/python3
"""Ordinary PyTorch state_dicts -> `nablas import`, by their key names; and export -> import
round trips that keep standardisations and names (`nablas predict` byte for byte).

Usage: torch_names.py NABLAS CASE
  named_sequential  a Sequential inside a module (net.0.weight ... net.10.weight: 2 < 10), the
                    file's keys in the name order safetensors.torch.save_file writes
  attributes        fc1/fc2/out attributes; encoder.fc1/encoder.fc2/decoder.out submodules,
                    refused in natural order (the key named), right with --order
  refusals          BatchNorm statistics and an embedding refused by name, imported with --skip
  roundtrip         a standardised regression with column names and a classifier with class
                    names: export -> import -> identical `nablas predict` output, and the
                    standardisations in the metadata reproduce it in PyTorch
Exit 77 (meson: skipped) only when torch or numpy cannot be imported."""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"SKIP: {e} (install python3-torch and python3-numpy: bash tools/setup.sh --interop)")
    sys.exit(77)

TOL = 1e-5
ST_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


def save_file(path, state_dict, metadata=None):
    """As safetensors.torch.save_file: tensors sorted by name in the header and the data."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in sorted(state_dict):
        arr = np.ascontiguousarray(state_dict[name].detach().numpy())
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": ST_DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_file(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf, meta = data[8 + n:], header.pop("__metadata__", {})
    out = {k: np.frombuffer(buf[t["data_offsets"][0]:t["data_offsets"][1]], "<f4")
           .reshape(t["shape"]).copy() for k, t in header.items()}
    return out, meta


def nablas(exe, *args, code=0):
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    if r.returncode != code:
        sys.exit(f"FAIL: nablas {' '.join(args)} exited {r.returncode} (want {code}): "
                 f"{r.stdout.strip()} {r.stderr.strip()}")
    return r.stdout + r.stderr


def expect_error(exe, want, *args):
    err = nablas(exe, *args, code=1)
    if want not in err or err.count("\n") != 1:
        sys.exit(f"FAIL: nablas {' '.join(args)}: want one line with {want!r}, got {err!r}")
    print(f"refused as wanted: {err.strip()}")


def check_predict(exe, model, layers, X, what, *extra):
    save_file("m.safetensors", model.state_dict())
    out = nablas(exe, "import", "m.safetensors", "--layers", layers, "--out", "m.nbm", *extra)
    print(out.strip())
    np.save("x.npy", X.numpy())
    nablas(exe, "predict", "--model", "m.nbm", "--data", "x.npy", "--out", "y.npy")
    with torch.no_grad():
        want = model(X).numpy()
    got = np.load("y.npy")
    diff = float(np.max(np.abs(got.astype(np.float64) - want)))
    print(f"{what}: {got.shape}, max |nablas - torch| = {diff:.3g}")
    if got.shape != want.shape or not diff <= TOL * max(1.0, float(np.max(np.abs(want)))):
        sys.exit(f"FAIL: {what}: difference {diff}")


class Named(torch.nn.Module):
    """A Sequential inside a module, six Linear layers: net.0 ... net.10."""
    def __init__(self):
        super().__init__()
        layers, width = [], 5
        for out in (12, 10, 9, 8, 7):
            layers += [torch.nn.Linear(width, out), torch.nn.Tanh()]
            width = out
        self.net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 3))

    def forward(self, x):
        return self.net(x)


def named_sequential(exe):
    torch.manual_seed(3)
    model = Named()
    keys = list(model.state_dict())
    if keys[0] != "net.0.weight" or "net.10.weight" not in keys:
        sys.exit(f"FAIL: keys {keys}")
    # in the file, net.10 comes before net.2 (names sorted); nablas orders by number
    check_predict(exe, model, "12:tanh,10:tanh,9:tanh,8:tanh,7:tanh,3", torch.randn(64, 5),
                  "net.0 ... net.10")


class Attrs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 16)
        self.fc2 = torch.nn.Linear(16, 8)
        self.out = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.out(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class Coder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 10)
        self.fc2 = torch.nn.Linear(10, 4)

    def forward(self, x):
        return torch.tanh(self.fc2(torch.tanh(self.fc1(x))))


class EncDec(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Coder()
        self.decoder = torch.nn.Module()
        self.decoder.out = torch.nn.Linear(4, 5)

    def forward(self, x):
        return self.decoder.out(self.encoder(x))


def attributes(exe):
    torch.manual_seed(4)
    check_predict(exe, Attrs(), "16:relu,8:relu,3", torch.randn(50, 4), "fc1, fc2, out")
    model = EncDec()
    save_file("m.safetensors", model.state_dict())
    # natural order puts decoder.out first: its width does not chain into encoder.fc1
    expect_error(exe, "m.safetensors: key 'encoder.fc1.weight' has shape [10,6], which does not "
                 "follow 'decoder.out.weight' [5,4]", "import", "m.safetensors", "--layers",
                 "10:tanh,4:tanh,5", "--out", "x.nbm")
    expect_error(exe, "key 'encoder.fc2.bias' belongs to module 'encoder.fc2', which is not "
                 "in the order given", "import", "m.safetensors", "--layers", "10:tanh,5",
                 "--order", "encoder.fc1,decoder.out", "--out", "x.nbm")
    expect_error(exe, "the order names module 'encoder.fc3', which has no 'encoder.fc3.weight'",
                 "import", "m.safetensors", "--layers", "10:tanh,4:tanh,5", "--order",
                 "encoder.fc1,encoder.fc2,encoder.fc3,decoder.out", "--out", "x.nbm")
    check_predict(exe, model, "10:tanh,4:tanh,5", torch.randn(40, 6), "--order encoder, decoder",
                  "--order", "encoder.fc1,encoder.fc2,decoder.out")


class WithBN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.bn = torch.nn.BatchNorm1d(8)
        self.fc2 = torch.nn.Linear(8, 2)


class WithEmb(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def refusals(exe):
    torch.manual_seed(5)
    save_file("m.safetensors", WithBN().state_dict())
    expect_error(exe, "key 'bn.num_batches_tracked' is not the weight or bias of a Linear layer "
                 "(BatchNorm statistics", "import", "m.safetensors", "--layers", "8:relu,2",
                 "--out", "x.nbm")
    expect_error(exe, "key 'bn.weight' has shape [8]: a Linear weight is 2-D", "import",
                 "m.safetensors", "--layers", "8:relu,2", "--skip", "bn.running_mean,"
                 "bn.running_var,bn.num_batches_tracked", "--out", "x.nbm")
    out = nablas(exe, "import", "m.safetensors", "--layers", "8:relu,2", "--skip", "bn",
                 "--out", "x.nbm")
    if "imported 4-8:relu,2:identity network (58 parameters)" not in out:
        sys.exit(f"FAIL: {out}")
    model = WithEmb()
    save_file("m.safetensors", model.state_dict())
    expect_error(exe, "key 'fc1.weight' has shape [8,4], which does not follow 'emb.weight' "
                 "[10,4]", "import", "m.safetensors", "--layers", "10:relu,8:relu,2", "--out",
                 "x.nbm")
    check_predict(exe, model, "8:relu,2", torch.randn(30, 4), "--skip emb", "--skip", "emb")


def same_bytes(a, b, what):
    with open(a, "rb") as f, open(b, "rb") as g:
        if f.read() != g.read():
            sys.exit(f"FAIL: {what}: {a} and {b} differ")
    print(f"{what}: nablas predict output identical after export -> import")


def roundtrip(exe):
    rng = np.random.default_rng(6)
    n = 240
    X = np.column_stack([rng.normal(50, 10, n), rng.normal(-3, 0.2, n), rng.uniform(0, 9, n)])
    y1 = 300 + 40 * np.tanh((X[:, 0] - 50) / 10 + X[:, 2] / 5)
    y2 = 0.01 * X[:, 1] * X[:, 2]
    with open("reg.csv", "w") as f:
        f.write("height,temp,dose,yield,loss_rate\n")
        for r, a, b in zip(X, y1, y2):
            f.write(",".join(f"{v:.6g}" for v in r) + f",{a:.6g},{b:.6g}\n")
    nablas(exe, "train", "--data", "reg.csv", "--target-columns", "yield,loss_rate", "--layers",
           "12:tanh,2", "--epochs", "15", "--standardize", "--standardize-targets", "--seed",
           "3", "--out", "reg.nbm")
    out = nablas(exe, "export", "reg.nbm", "reg.safetensors")
    if "input standardisation in the metadata, target standardisation in the metadata" not in out:
        sys.exit(f"FAIL: {out}")
    out = nablas(exe, "import", "reg.safetensors", "--out", "back.nbm")
    if "with an input standardisation, a target standardisation, column names" not in out:
        sys.exit(f"FAIL: {out}")
    for fmt in ("csv", "npy"):
        nablas(exe, "predict", "--model", "reg.nbm", "--data", "reg.csv", "--out", "a." + fmt)
        nablas(exe, "predict", "--model", "back.nbm", "--data", "reg.csv", "--out", "b." + fmt)
        same_bytes("a." + fmt, "b." + fmt, "regression (" + fmt + ")")
    with open("b.csv") as f:
        head = f.readline().strip()
    if "yield" not in head or "loss_rate" not in head:
        sys.exit(f"FAIL: predictions lack the target names: {head}")
    # PyTorch: the Sequential with the metadata's standardisations around it
    tensors, meta = read_file("reg.safetensors")
    model = torch.nn.Sequential(torch.nn.Linear(3, 12), torch.nn.Tanh(), torch.nn.Linear(12, 2))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    f = lambda k: np.array(json.loads(meta[k]), np.float32)  # noqa: E731
    x = (X.astype(np.float32) - f("nablas.feature_mean")) / f("nablas.feature_std")
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy() * f("nablas.target_std") + f("nablas.target_mean")
    want = np.load("a.npy")
    rel = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
    print(f"torch with the metadata's standardisations: max relative difference {rel:.3g}")
    if not rel <= TOL:
        sys.exit(f"FAIL: torch differs by {rel}")
    # a classifier with class names
    with open("cls.csv", "w") as f:
        f.write("x1,x2,kind\n")
        for k in range(n):
            c = k % 3
            f.write(f"{rng.normal(3 * c, 1):.5g},{rng.normal(10 - 2 * c, 1):.5g},"
                    f"{['setosa', 'versicolor', 'virginica'][c]}\n")
    nablas(exe, "train", "--data", "cls.csv", "--label-column", "kind", "--layers", "8:relu,3",
           "--epochs", "10", "--standardize", "--seed", "4", "--out", "cls.nbm")
    nablas(exe, "export", "cls.nbm", "cls.safetensors")
    _, meta = read_file("cls.safetensors")
    if json.loads(meta["nablas.class_names"]) != ["setosa", "versicolor", "virginica"] or \
            meta["nablas.loss"] != "softmax-ce":
        sys.exit(f"FAIL: classifier metadata {meta}")
    out = nablas(exe, "import", "cls.safetensors", "--out", "cback.nbm")
    if "class names" not in out:
        sys.exit(f"FAIL: {out}")
    nablas(exe, "predict", "--model", "cls.nbm", "--data", "cls.csv", "--out", "a.csv")
    nablas(exe, "predict", "--model", "cback.nbm", "--data", "cls.csv", "--out", "b.csv")
    same_bytes("a.csv", "b.csv", "classifier")
    with open("b.csv") as f:
        text = f.read()
    if "versicolor" not in text:
        sys.exit("FAIL: the imported classifier does not predict class names")


def main():
    exe, case = os.path.abspath(sys.argv[1]), sys.argv[2]
    torch.set_num_threads(1)
    cases = {"named_sequential": named_sequential, "attributes": attributes,
             "refusals": refusals, "roundtrip": roundtrip}
    if case not in cases:
        sys.exit(f"unknown case {case}")
    with tempfile.TemporaryDirectory(prefix="nablas-names-") as work:
        os.chdir(work)
        cases[case](exe)


if __name__ == "__main__":
    main()
