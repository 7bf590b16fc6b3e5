"""PyTorch peer of nablas-bench-train, and the side-by-side table (run by run.sh).

--measure: trains W1-W4 on the .npy data nablas-bench-train wrote (same rows, same targets),
with the workloads' networks, losses, SGD learning rates and batch sizes, and appends one JSON
line per workload to --out.  --optimizers sgd,adam,adamw adds the workloads' optimizer variants
(W2 and W3 only: Adam lr 1e-3, AdamW lr 1e-3 and weight decay 0.01, PyTorch's other defaults).  PyTorch (Debian's build) runs its GEMMs in the system OpenBLAS,
whose thread pool is fixed at start-up by OPENBLAS_NUM_THREADS, and its other kernels in an
OpenMP pool (torch.set_num_threads).  Two pools on two cores oversubscribe, so run.sh starts
one process per configuration, (OpenMP 1, OpenBLAS t) and (OpenMP t, OpenBLAS 1), and the
report keeps the faster one for each workload and thread count t: PyTorch's best.
--report: prints one table with nablas', PyTorch's and FANN's figures."""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch

WORKLOADS = {  # hidden activations, output activation, loss, lr, batch, shuffle
    "W1": ([16, 8], "relu", "sigmoid", "mse", 0.1, 32, False),
    "W2": ([128, 64], "relu", None, "ce", 0.05, 64, True),
    "W3": ([1024, 1024], "relu", None, "ce", 0.01, 256, False),
    "W4": ([8, 4], None, None, "mse", 0.01, 1000, False),
}
OPTIM_WORKLOADS = ("W2", "W3")  # the optimizer variants (../shared workloads: Adam, AdamW)


def make_optimizer(name, params, sgd_lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    return torch.optim.SGD(params, lr=sgd_lr)


def build(inputs, outputs, spec):
    hidden, act, out_act = spec[0], spec[1], spec[2]
    layers, width = [], inputs
    for h in hidden:
        layers.append(torch.nn.Linear(width, h))
        if act == "relu":
            layers.append(torch.nn.ReLU())
        width = h
    layers.append(torch.nn.Linear(width, outputs))
    if out_act == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def torch_epoch_time(name, X, T, threads, repeats, optimizer="sgd", bf16=False):
    spec = WORKLOADS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(X.shape[1], T.shape[1], spec)
    opt = make_optimizer(optimizer, model.parameters(), spec[4])
    if spec[3] == "ce":
        lossf, target = torch.nn.CrossEntropyLoss(), T.argmax(dim=1)
    else:
        lossf, target = torch.nn.MSELoss(), T
    bs, rows = spec[5], X.shape[0]

    def epoch():
        order = torch.randperm(rows) if spec[6] else None
        for s in range(0, rows, bs):
            if order is None:
                xb, tb = X[s:s + bs], target[s:s + bs]
            else:
                idx = order[s:s + bs]
                xb, tb = X[idx], target[idx]
            opt.zero_grad(set_to_none=True)
            if bf16:  # PyTorch's mixed precision on CPU: bf16 products, fp32 weights
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    loss = lossf(model(xb), tb)
            else:
                loss = lossf(model(xb), tb)
            loss.backward()
            opt.step()

    epoch()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(a):
    omp, blas = a.omp, int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    with open(a.out, "a") as out:
        for name in WORKLOADS:
            try:
                X = torch.from_numpy(np.load(f"{a.data}/{name}_X.npy"))
                T = torch.from_numpy(np.load(f"{a.data}/{name}_T.npy"))
            except FileNotFoundError:
                continue
            reps = (2 if a.quick else 3) if name == "W3" else (5 if a.quick else 20)
            for opt in a.optimizers.split(","):
                if opt != "sgd" and name not in OPTIM_WORKLOADS:
                    continue
                e = torch_epoch_time(name, X, T, omp, reps, opt)
                out.write(json.dumps({"workload": name, "optimizer": opt,
                                      "threads": max(omp, blas), "omp": omp, "blas": blas,
                                      "epoch_s": e}) + "\n")
            if name == "W3" and a.bf16:
                e = torch_epoch_time(name, X, T, omp, reps, bf16=True)
                out.write(json.dumps({"workload": name, "optimizer": "sgd",
                                      "threads": max(omp, blas), "omp": omp, "blas": blas,
                                      "epoch_s": e, "precision": "bf16"}) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--measure", action="store_true")
    ap.add_argument("--omp", type=int, default=1, help="torch.set_num_threads (with --measure)")
    ap.add_argument("--out", help="JSON lines to append to (with --measure)")
    ap.add_argument("--torch", help="PyTorch JSON lines (report)")
    ap.add_argument("--nablas", nargs="+", help="nablas-bench-train --json outputs, one per "
                    "round (report)")
    ap.add_argument("--fann", help="FANN peer JSON lines (report)")
    ap.add_argument("--optimizers", default="sgd",
                    help="sgd,adam,adamw: optimizer variants to measure (W2 and W3 for adam/adamw)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="also W3 under torch.autocast bf16 "
                    "(with --measure)")
    ap.add_argument("--nablas-bf16", help="nablas-bench-train --bf16 --json output (report)")
    a = ap.parse_args()
    if a.measure:
        measure(a)
    else:
        report(a)


def report(a):
    best = {}
    with open(a.torch) as f:
        for line in f:
            r = json.loads(line)
            k = (r["workload"], r["threads"],
                 r.get("optimizer", "sgd") + ("/bf16" if r.get("precision") == "bf16" else ""))
            if k not in best or r["epoch_s"] < best[k]["epoch_s"]:
                best[k] = r
    nb_rows, rounds = {}, 0
    for path in a.nablas:  # each (workload, threads): the best of the rounds
        with open(path) as f:
            nb = json.load(f)
        rounds += 1
        for r in nb["rows"]:
            k = (r["workload"], int(r["threads"]), r.get("optimizer", "sgd"))
            if k not in nb_rows or r["epoch_s"] < nb_rows[k]["epoch_s"]:
                nb_rows[k] = r
    fann = {}
    if a.fann:
        with open(a.fann) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    fann[r["workload"]] = r
    h = nb["header"]
    print(f"peers: nablas with OpenBLAS {h['corename']} (OPENBLAS_CORETYPE="
          f"{h['openblas_coretype_env'] or 'unset'}); PyTorch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else 'cpu'}); "
          f"FANN 2.2 single-threaded")
    print(f"{'wl':<4} {'opt':<5} {'thr':>3} {'nablas':>12} {'PyTorch':>12} {'omp/blas':>8} "
          f"{'torch/nablas':>13} {'FANN':>14} {'FANN/nablas':>12}")
    for (name, t, opt), r in sorted(nb_rows.items(), key=lambda kv: (kv[0][0], kv[0][2] != "sgd",
                                                                     kv[0][2], kv[0][1])):
        e = r["epoch_s"]
        tr = best.get((name, t, opt))
        if tr is None:
            continue
        pt, cfg = tr["epoch_s"], f"{tr['omp']}/{tr['blas']}"
        fr = fann.get(name) if opt == "sgd" else None
        fs, fq = "-", "-"
        if fr:
            fs = f"{fr['epoch_s'] * 1e3:11.4g} ms" + ("*" if fr["rows_timed"] < fr["rows"] else " ")
            fq = f"{fr['epoch_s'] / e:11.1f}x"
        print(f"{name:<4} {opt:<5} {t:>3} {e * 1e3:9.4g} ms {pt * 1e3:9.4g} ms {cfg:>8} {pt / e:12.2f}x "
              f"{fs:>14} {fq:>12}", flush=True)
    print(f"best of {rounds} alternating round(s) each (nablas: median epoch of its repeats; "
          "PyTorch likewise).")
    print("PyTorch: the faster of (OpenMP 1, OpenBLAS t) and (OpenMP t, OpenBLAS 1) threads.")
    print("ratios: peer epoch / nablas epoch (above 1: nablas is faster).  FANN: 1 thread, "
          "sigmoid for ReLU/softmax, per-sample\nSGD (W1-W3) or full batch (W4); * = timed on "
          "512 rows and scaled.  See bench/peers/fann_peer.c.")
    if a.nablas_bf16:
        report_bf16(a.nablas_bf16, best)


def report_bf16(path, best):
    with open(path) as f:
        rows = json.load(f)["rows"]
    print()
    print("bf16 mixed precision on W3: nablas (oneDNN bf16 matmul) vs PyTorch "
          'torch.autocast("cpu", dtype=torch.bfloat16)')
    print(f"{'wl':<4} {'thr':>3} {'nablas fp32':>12} {'nablas bf16':>12} {'bf16/fp32':>10} "
          f"{'torch bf16':>12} {'omp/blas':>8} {'torch/nablas':>13}")
    for r in rows:
        t = int(r["threads"])
        tr = best.get((r["workload"], t, "sgd/bf16"))
        if tr is None:
            continue
        e32, e16, pt = r["fp32_epoch_s"], r["bf16_epoch_s"], tr["epoch_s"]
        cfg = f"{tr['omp']}/{tr['blas']}"
        print(f"{r['workload']:<4} {t:>3} {e32 * 1e3:9.4g} ms {e16 * 1e3:9.4g} ms "
              f"{e16 / e32:9.3f}x {pt * 1e3:9.4g} ms {cfg:>8} {pt / e16:12.2f}x", flush=True)
    print("nablas fp32 and bf16 alternate epoch by epoch in one run; PyTorch: the faster of its "
          "thread configurations.")


if __name__ == "__main__":
    main()
