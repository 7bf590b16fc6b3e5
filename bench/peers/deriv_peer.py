#!/usr/bin/python3
"""J2 beside PyTorch: the Jacobian of 1,024 rows of W2's network (64-128-64-10, ReLU) with
nablas (nablas-bench-latency --deriv-only, J2) and with torch.autograd.functional.jacobian(...,
vectorize=True), each beside one batched forward of the same rows, at the same thread count,
in one run (ROUNDS rounds alternating nablas and PyTorch; each side's best round is kept).

The rows are independent, so PyTorch's per-row Jacobians come from one call on the sum over
rows, jacobian(lambda x: net(x).sum(0), X, vectorize=True) (10 x 1024 x 64), the usual way
(the Jacobian of net(X) itself would be 1024 x 10 x 1024 x 64, almost all zeros).

usage: /usr/bin/python3 bench/peers/deriv_peer.py [--build DIR] [--threads T] [--reps N]
                                                 [--rounds R]
Needs Debian's python3-torch (tools/setup.sh --peers)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--build", default="build")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--reps", type=int, default=50)
ap.add_argument("--rounds", type=int, default=2)
args = ap.parse_args()
# Debian's torch runs its GEMMs in the system OpenBLAS, whose pool is sized at start-up
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_NUM_THREADS"] = str(args.threads)
import torch  # noqa: E402  (after the thread settings)

torch.set_num_threads(args.threads)
B, N, M = 1024, 64, 10


def nablas_round():
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "j.json")
        subprocess.run([os.path.join(args.build, "bench", "nablas-bench-latency"), "--deriv-only",
                        "--calls", "1000", "--reps", str(args.reps), "--json", js],
                       check=True, stdout=subprocess.DEVNULL)
        rows = json.load(open(js))["rows"]
    j2 = {r["variant"]: r["median_ns"] for r in rows if r["bench"].startswith("J2")}
    return j2["nb_infer_predict"], j2["nb_deriv_jacobian"]


def torch_round():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(N, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                              torch.nn.ReLU(), torch.nn.Linear(64, M))
    X = torch.rand(B, N)
    f = lambda x: net(x).sum(0)  # noqa: E731
    tf, tj = [], []
    with torch.no_grad():
        net(X)
    torch.autograd.functional.jacobian(f, X, vectorize=True)  # warm-up
    for i in range(args.reps):
        for k in range(2):
            t0 = time.perf_counter_ns()
            if (i + k) % 2 == 0:
                with torch.no_grad():
                    y = net(X)
                tf.append(time.perf_counter_ns() - t0)
            else:
                J = torch.autograd.functional.jacobian(f, X, vectorize=True)
                tj.append(time.perf_counter_ns() - t0)
    assert tuple(J.shape) == (M, B, N) and tuple(y.shape) == (B, M)
    return statistics.median(tf), statistics.median(tj)


best_nb, best_pt = None, None
for r in range(args.rounds):
    nb = nablas_round()
    pt = torch_round()
    best_nb = nb if best_nb is None or nb[1] < best_nb[1] else best_nb
    best_pt = pt if best_pt is None or pt[1] < best_pt[1] else best_pt
print("J2: Jacobian of 1024 rows of 64-128-64-10 relu, %d thread(s), torch %s, medians of %d "
      "calls, best of %d rounds" % (args.threads, torch.__version__, args.reps, args.rounds))
print("%-34s %12s %12s %10s" % ("", "forward ms", "Jacobian ms", "J / fwd"))
print("%-34s %12.3f %12.3f %9.2fx" % ("nablas (nb_deriv_jacobian)", best_nb[0] / 1e6,
                                      best_nb[1] / 1e6, best_nb[1] / best_nb[0]))
print("%-34s %12.3f %12.3f %9.2fx" % ("torch jacobian(vectorize=True)", best_pt[0] / 1e6,
                                      best_pt[1] / 1e6, best_pt[1] / best_pt[0]))
print("PyTorch / nablas, Jacobian: %.2fx   (target: at least 5x)" % (best_pt[1] / best_nb[1]))
sys.exit(0)
