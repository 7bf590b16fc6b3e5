#!/usr/bin/python3
"""PyTorch <-> nablas through safetensors files, end to end with the `nablas` command.

Usage: torch_roundtrip.py NABLAS CASE
  from_torch[_f16|_bf16|_f64]  a Sequential trained in PyTorch, written by the safetensors
                               writer below, `nablas import`, `nablas predict` == torch
  to_torch[_std|_std_targets]  `nablas train` (with --standardize, and --standardize-targets
                               on targets in the hundreds), `nablas export --fold`, parsed here
                               into a torch Sequential, which predicts as `nablas predict`; then
                               `nablas export` without --fold, the metadata's standardisations
                               applied here around the Sequential

Outputs must agree within 1e-5 * max(1, |torch's output|): absolute for outputs of order 1,
relative for the targets in the hundreds (float32 spacing there is 1.5e-5).

Debian 12 has no python3-safetensors, so the format (u64 LE header length, JSON header,
little-endian data) is written and read here with struct and numpy.  Exit 77 (meson: skipped)
only when torch or numpy cannot be imported."""
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
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, numpy array, dtype name); BF16 arrays are given as uint16 bits."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, arr, dt in tensors:
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        assert t["dtype"] == "F32", t
        out[name] = np.frombuffer(buf[b:e], dtype="<f4").reshape(t["shape"]).copy()
    ends = sorted((t["data_offsets"] for t in header.values()))
    assert ends[0][0] == 0 and ends[-1][1] == len(buf), "data buffer not tiled"
    return out, meta


def nablas(exe, *args):
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: nablas {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def compare(what, got, want):
    got, want = got.astype(np.float64), want.astype(np.float64)
    diff = float(np.max(np.abs(got - want)))
    rel = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
    print(f"{what}: {got.shape[0]} rows x {got.shape[1]} outputs, |torch| up to "
          f"{np.max(np.abs(want)):.3g}, max |nablas - torch| = {diff:.3g}, "
          f"max |nablas - torch| / max(1, |torch|) = {rel:.3g}")
    if not rel <= TOL:
        sys.exit(f"FAIL: {what}: difference {rel} > {TOL}")


def from_torch(exe, dtype):
    torch.manual_seed(0)
    X = torch.randn(256, 5)
    y = torch.stack([X[:, 0] * X[:, 1], torch.sin(X[:, 2]), X[:, 3] - X[:, 4] ** 2], dim=1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.Sigmoid(),
                                torch.nn.Linear(8, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    print(f"torch: trained 200 Adam steps, mse {loss.item():.4f}")
    tensors = []
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if dtype == "F16":
                p.copy_(p.half().float())  # the reference uses the rounded weights
                tensors.append((name, p.numpy().astype(np.float16), "F16"))
            elif dtype == "BF16":
                p.copy_(p.bfloat16().float())
                bits = (p.numpy().view(np.uint32) >> 16).astype(np.uint16)
                tensors.append((name, bits, "BF16"))
            else:
                tensors.append((name, p.numpy().astype(DTYPES[dtype]), dtype))
        want = model(X).numpy()
    write_safetensors("torch.safetensors", tensors, {"format": "pt"})
    nablas(exe, "import", "torch.safetensors", "--layers", "16:tanh,8:relu,8:sigmoid,3",
           "--out", "m.nbm")
    np.save("x.npy", X.numpy())
    nablas(exe, "predict", "--model", "m.nbm", "--data", "x.npy", "--out", "y.npy")
    compare(f"torch -> nablas ({dtype})", np.load("y.npy"), want)


def to_torch(exe, standardize, targets=False):
    rng = np.random.default_rng(1)
    n = 300
    # features on different scales, so that the standardisation matters
    X = np.column_stack([rng.normal(10, 3, n), rng.normal(-1, 0.5, n), rng.uniform(0, 4, n),
                         rng.normal(0, 1, n)]).astype(np.float32)
    t = np.tanh(0.2 * (X[:, 0] - 10) + X[:, 1] + 0.3 * X[:, 2] * X[:, 3])
    if targets:
        t = 200 + 50 * t  # units far from standardised ones
    with open("d.csv", "w") as f:
        f.write("a,b,c,d,y\n")
        for row, v in zip(X, t):
            f.write(",".join(f"{x:.6g}" for x in row) + f",{v:.6g}\n")
    args = ["train", "--data", "d.csv", "--target-columns", "y", "--layers",
            "16:tanh,8:relu,1", "--epochs", "30", "--batch", "16", "--optimizer", "sgd", "--lr",
            "0.05", "--seed", "2", "--out", "m.nbm"]
    nablas(exe, *(args + (["--standardize"] if standardize else ["--no-standardize"])
                      + (["--standardize-targets"] if targets else ["--no-standardize-targets"])))
    nablas(exe, "export", "--fold", "m.nbm", "m.safetensors")
    tensors, meta = read_safetensors("m.safetensors")
    if sorted(tensors) != ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]:
        sys.exit(f"FAIL: tensor names {sorted(tensors)}")
    if meta.get("nablas.activations") != "tanh,relu,identity":
        sys.exit(f"FAIL: metadata {meta}")
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 1))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})  # strict
    np.save("x.npy", X)
    nablas(exe, "predict", "--model", "m.nbm", "--data", "x.npy", "--out", "y.npy")
    with torch.no_grad():
        want = model(torch.from_numpy(X)).numpy()
    if targets and not 150 < float(np.mean(want)) < 250:
        sys.exit(f"FAIL: torch's outputs (mean {np.mean(want)}) are not in the targets' units")
    compare("nablas -> torch" + (" (--standardize folded)" if standardize else "")
            + (" (--standardize-targets folded)" if targets else ""), np.load("y.npy"), want)
    # without --fold: the network's own weights, the standardisations in the metadata, which a
    # PyTorch user applies around the Sequential
    nablas(exe, "export", "m.nbm", "plain.safetensors")
    tensors, meta = read_safetensors("plain.safetensors")
    if standardize != ("nablas.feature_mean" in meta and "nablas.feature_std" in meta) or \
            targets != ("nablas.target_mean" in meta and "nablas.target_std" in meta):
        sys.exit(f"FAIL: standardisations in the metadata: {sorted(meta)}")
    if json.loads(meta["nablas.feature_names"]) != ["a", "b", "c", "d"] or \
            json.loads(meta["nablas.target_names"]) != ["y"] or meta["nablas.loss"] != "mse":
        sys.exit(f"FAIL: names or loss in the metadata: {meta}")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    x = X.astype(np.float32)
    if standardize:
        x = (x - np.array(json.loads(meta["nablas.feature_mean"]), np.float32)) \
            / np.array(json.loads(meta["nablas.feature_std"]), np.float32)
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    if targets:
        got = got * np.array(json.loads(meta["nablas.target_std"]), np.float32) \
            + np.array(json.loads(meta["nablas.target_mean"]), np.float32)
    compare("nablas -> torch with the metadata's standardisations", np.load("y.npy"), got)


# The newer activations: nablas' name and the PyTorch module with the same function.
NEW_ACTS = [("gelu", lambda: torch.nn.GELU()), ("gelu_tanh", lambda: torch.nn.GELU(approximate="tanh")),
            ("silu", torch.nn.SiLU), ("softplus", torch.nn.Softplus), ("elu", torch.nn.ELU)]


def acts_from_torch(exe):
    """A Sequential with every newer activation, trained in PyTorch, imported and predicting
    the same outputs."""
    torch.manual_seed(1)
    X = torch.randn(256, 5) * 2.0  # wide enough to reach the activations' tails
    y = torch.stack([X[:, 0] * X[:, 1], torch.sin(X[:, 2]), X[:, 3] - X[:, 4] ** 2], dim=1)
    layers, width = [], 5
    for _, mod in NEW_ACTS:
        layers += [torch.nn.Linear(width, 12), mod()]
        width = 12
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    print(f"torch: trained 100 Adam steps, mse {loss.item():.4f}")
    with torch.no_grad():
        tensors = [(k, v.numpy().astype(np.float32), "F32") for k, v in model.state_dict().items()]
        want = model(X).numpy()
    write_safetensors("torch.safetensors", tensors, {"format": "pt"})
    spec = ",".join("12:" + name for name, _ in NEW_ACTS) + ",3"
    nablas(exe, "import", "torch.safetensors", "--layers", spec, "--out", "m.nbm")
    np.save("x.npy", X.numpy())
    nablas(exe, "predict", "--model", "m.nbm", "--data", "x.npy", "--out", "y.npy")
    compare("torch -> nablas (gelu, gelu_tanh, silu, softplus, elu)", np.load("y.npy"), want)


def acts_to_torch(exe):
    """A network with every newer activation, trained by nablas, exported and loaded into the
    Sequential of the matching PyTorch modules."""
    rng = np.random.default_rng(2)
    X = rng.normal(0, 2, (300, 4)).astype(np.float32)
    t = np.tanh(0.5 * X[:, 0] + X[:, 1] * X[:, 2]) + 0.1 * X[:, 3]
    with open("d.csv", "w") as f:
        f.write("a,b,c,d,y\n")
        for row, v in zip(X, t):
            f.write(",".join(f"{x:.6g}" for x in row) + f",{v:.6g}\n")
    spec = ",".join("12:" + name for name, _ in NEW_ACTS) + ",1"
    nablas(exe, "train", "--data", "d.csv", "--target-columns", "y", "--layers", spec,
           "--epochs", "20", "--batch", "16", "--optimizer", "sgd", "--lr", "0.05", "--seed", "2",
           "--standardize", "--no-standardize-targets", "--out", "m.nbm")
    nablas(exe, "export", "--fold", "m.nbm", "m.safetensors")
    tensors, meta = read_safetensors("m.safetensors")
    names = ",".join(name for name, _ in NEW_ACTS) + ",identity"
    if meta.get("nablas.activations") != names:
        sys.exit(f"FAIL: metadata {meta}")
    layers, width = [], 4
    for _, mod in NEW_ACTS:
        layers += [torch.nn.Linear(width, 12), mod()]
        width = 12
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})  # strict
    np.save("x.npy", X)
    nablas(exe, "predict", "--model", "m.nbm", "--data", "x.npy", "--out", "y.npy")
    with torch.no_grad():
        want = model(torch.from_numpy(X)).numpy()
    compare("nablas -> torch (gelu, gelu_tanh, silu, softplus, elu; --standardize folded)",
            np.load("y.npy"), want)


def main():
    exe, case = os.path.abspath(sys.argv[1]), sys.argv[2]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="nablas-interop-") as work:
        os.chdir(work)
        if case.startswith("from_torch"):
            from_torch(exe, case[len("from_torch_"):].upper() or "F32")
        elif case == "acts_from_torch":
            acts_from_torch(exe)
        elif case == "acts_to_torch":
            acts_to_torch(exe)
        elif case in ("to_torch", "to_torch_std", "to_torch_std_targets"):
            to_torch(exe, case != "to_torch", case == "to_torch_std_targets")
        else:
            sys.exit(f"unknown case {case}")


if __name__ == "__main__":
    main()
