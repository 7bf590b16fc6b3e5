#!/usr/bin/python3
"""Write nablas' PyTorch reference data to tests/data/ (the parity tests read it).

Needs Debian's PyTorch and NumPy for the system Python:

    apt-get install python3-torch python3-numpy

Run from anywhere (it writes next to itself, in ../tests/data/):

    /usr/bin/python3 tools/make_reference.py

Everything comes from fixed seeds and torch runs on one thread, so a second run writes
byte-identical files (check with `sha256sum tests/data/*/*.npy`).  The format is one .npy
file per array (NumPy format 1.0, C order, little-endian '<f4' or '<f8'); see
tests/data/README.md for the list of cases.

Precision: kernel references are computed in float64 from float32-representable inputs, so
they are the exact answer nablas' float32 kernels approximate.  Trajectories (a)-(c) run in
float64 from float32 initial weights and data; trajectory (d) runs in float32, as nablas does.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import reference_optim  # optimizers, schedules, clipping: tests/data/optim
import reference_lbfgs

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
F32, F64 = np.dtype("<f4"), np.dtype("<f8")


def save(sub, name, arr, dtype):
    d = os.path.join(OUT, sub)
    os.makedirs(d, exist_ok=True)
    a = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
    np.save(os.path.join(d, name + ".npy"), a, allow_pickle=False)


def f32(rng, shape, scale=1.0):
    """float32 random normal values: exactly representable in the C tests."""
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---- kernels ---------------------------------------------------------------------------------

DENSE_SHAPES = [(1, 1, 1), (17, 13, 11), (64, 128, 96)]  # batch x in x out
ACT_SHAPES = [(1, 1), (17, 13), (50, 64)]
LOSS_SHAPES = [(1, 1), (17, 13), (64, 10)]

ACTS = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda z: torch.softmax(z, dim=1),
    "gelu": lambda z: checked(z, 0.5 * z.detach() * torch.special.erfc(-z.detach() * 0.5 ** 0.5),
                              F.gelu),
    "gelu_tanh": lambda z: checked(
        z, z.detach() * torch.sigmoid(2.0 * (2.0 / np.pi) ** 0.5 * (z.detach() + 0.044715 * z.detach() ** 3)),
        lambda t: F.gelu(t, approximate="tanh")),
    "silu": F.silu,
    "softplus": F.softplus,  # beta 1, threshold 20
    "elu": lambda z: checked(z, torch.where(z > 0, z, torch.expm1(z.clamp(max=0.0))).detach(), F.elu),
}
# The activations added after the first six: they also get a "wide" case (make_acts_wide).
WIDE_ACTS = ["gelu", "gelu_tanh", "silu", "softplus", "elu"]


def checked(z, a, f):
    """PyTorch's activation f(z) with its values replaced by a's, the same function written in
    a form that stays accurate in float64 where PyTorch's CPU kernel cancels (GELU's
    1 + erf(z / sqrt 2) and its tanh form are 0 below z = -8.3 and wrong by 1e-2 relative at
    z = -7.6; F.elu's exp(z) - 1 is 0 at z = -1e-30).  a must agree with f within 1e-15
    absolute (the size of that cancellation); the gradient is f's own (autograd)."""
    y = f(z)
    with torch.no_grad():
        fin = torch.isfinite(y) & torch.isfinite(a)
        ok = (torch.isnan(a) == torch.isnan(y)) & (fin | torch.isnan(y) | (a == y))
        ok &= ~fin | ((a - y).abs() <= 1e-15 * torch.clamp(y.abs(), min=1.0))
        assert bool(ok.all()), "activation reference differs from PyTorch's"
        fix = torch.where(fin, a - y, torch.zeros_like(a))
    return y + fix


def shape_tag(shape):
    return "x".join(str(s) for s in shape)


def make_dense(rng):
    for b, i, o in DENSE_SHAPES:
        tag = "dense_" + shape_tag((b, i, o))
        X, W, bias, G = f32(rng, (b, i)), f32(rng, (i, o), 0.3), f32(rng, (1, o)), f32(rng, (b, o))
        tX, tW, tb = t64(X, True), t64(W, True), t64(bias, True)
        Z = tX @ tW + tb
        Z.backward(t64(G))
        for name, arr, dt in [("X", X, F32), ("W", W, F32), ("b", bias, F32), ("G", G, F32),
                              ("Z", Z.detach(), F64), ("dW", tW.grad, F64),
                              ("db", tb.grad, F64), ("dX", tX.grad, F64)]:
            save("dense", tag + "_" + name, arr, dt)


def make_acts(rng):
    for name, f in ACTS.items():
        for shape in ACT_SHAPES:
            tag = name + "_" + shape_tag(shape)
            Z, G = f32(rng, shape, 3.0), f32(rng, shape)
            tZ = t64(Z, True)
            A = f(tZ)
            if name == "identity":  # identity's autograd node is a no-op: make one
                A = tZ * 1.0
            A.backward(t64(G))
            for n, arr, dt in [("Z", Z, F32), ("G", G, F32), ("A", A.detach(), F64),
                               ("dZ", tZ.grad, F64)]:
                save("act", tag + "_" + n, arr, dt)
    make_acts_wide(np.random.default_rng(21))  # its own generator: the cases above stay


def make_acts_wide(rng):
    """<name>_wide_1x600: the tails and edges of the newer activations, where a careless form
    loses accuracy: z down to -14 (GELU's z Phi(z) is near float's smallest normal there),
    around softplus' threshold 20, tiny |z| (ELU's expm1, GELU's Phi(0)), and up to 30."""
    grid = np.linspace(-14.0, 30.0, 441)
    near20 = 20.0 + np.linspace(-0.01, 0.01, 41)
    tiny = np.concatenate([s * 10.0 ** -np.arange(1.0, 11.0) for s in (1.0, -1.0)])
    rest = rng.standard_normal(600 - grid.size - near20.size - tiny.size) * 4.0
    Z = np.concatenate([grid, near20, tiny, rest]).astype(np.float32).reshape(1, 600)
    G = f32(rng, (1, 600))
    for name in WIDE_ACTS:
        tZ = t64(Z, True)
        A = ACTS[name](tZ)
        A.backward(t64(G))
        for n, arr, dt in [("Z", Z, F32), ("G", G, F32), ("A", A.detach(), F64),
                           ("dZ", tZ.grad, F64)]:
            save("act", name + "_wide_1x600_" + n, arr, dt)


def loss_case(tag, Y, T, fn):
    tY = t64(Y, True)
    L = fn(tY, t64(T))
    L.backward()
    for n, arr, dt in [("Y", Y, F32), ("T", T, F32), ("loss", L.detach(), F64),
                       ("G", tY.grad, F64)]:
        save("loss", tag + "_" + n, arr, dt)


def make_losses(rng):
    for shape in LOSS_SHAPES:
        st = shape_tag(shape)
        rows, cols = shape
        loss_case("mse_" + st, f32(rng, shape), f32(rng, shape), F.mse_loss)
        # BCE: probabilities from a wide logit range, soft targets in [0, 1]
        y = (1.0 / (1.0 + np.exp(-3.0 * rng.standard_normal(shape)))).astype(np.float32)
        t = rng.uniform(0.0, 1.0, shape).astype(np.float32)
        loss_case("bce_" + st, y, t, F.binary_cross_entropy)
        # softmax cross-entropy from logits: class indices (one-hot) and probability targets
        logits = f32(rng, shape, 2.0)
        idx = rng.integers(0, cols, rows)
        onehot = np.eye(cols, dtype=np.float32)[idx]
        loss_case("ce_onehot_" + st, logits, onehot,
                  lambda y, _t, idx=idx: F.cross_entropy(y, torch.tensor(idx)))
        p = np.exp(f32(rng, shape))
        p = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
        loss_case("ce_prob_" + st, logits, p, F.cross_entropy)
    # softmax cross-entropy with targets summing to 0.8 per row (e.g. a partial label):
    # the gradient is softmax * sum(t) - t, not softmax - t
    logits = f32(rng, (17, 13), 2.0)
    p = np.exp(f32(rng, (17, 13)))
    p = (0.8 * p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    loss_case("ce_partial_17x13", logits, p, F.cross_entropy)
    # BCE edges: y exactly 0 or 1 hit the log clamp (-100) and the 1e-12 gradient floor
    y = np.array([[0.0, 0.0, 1.0, 1.0, 1e-30, 0.5]], dtype=np.float32)
    t = np.array([[0.0, 1.0, 0.0, 1.0, 1.0, 0.25]], dtype=np.float32)
    loss_case("bce_edges_1x6", y, t, F.binary_cross_entropy)


# ---- non-finite values -----------------------------------------------------------------------
# NaN and +-inf inputs: activations and losses propagate them as PyTorch does.  BCE is the one
# exception PyTorch has no answer for: it refuses a y outside [0, 1] (NaN included) with an
# error; there the reference is NaN (loss and gradient), nablas' documented choice.

SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-30, -1e-30, 100.0, -100.0, 3.0, -3.0]


def with_specials(rng, n, positions):
    """1 x n float32 N(0, 9) values with SPECIALS at the given positions (both the 16-lane
    vector part and the scalar tail of a kernel see some)."""
    z = f32(rng, (1, n), 3.0)
    for k, pos in enumerate(positions):
        z[0, pos] = SPECIALS[k % len(SPECIALS)]
    return z


def make_nonfinite(rng):
    sub = "nonfinite"
    z = with_specials(rng, 40, [0, 3, 5, 8, 11, 14, 17, 20, 26, 31, 33, 34, 35, 36, 37, 38, 39])
    g = f32(rng, (1, 40))
    for name, f in ACTS.items():
        if name == "softmax":
            continue
        tZ = t64(z, True)
        A = f(tZ) if name != "identity" else tZ * 1.0
        A.backward(t64(g))
        for n, arr, dt in [("Z", z, F32), ("G", g, F32), ("A", A.detach(), F64),
                           ("dZ", tZ.grad, F64)]:
            save(sub, "act_" + name + "_" + n, arr, dt)
    # softmax rows: NaN first / later, +inf, one -inf, all -inf, all +inf, finite; on short
    # rows (3 columns: the 16-lane row kernels) and long ones (20 columns)
    for cols in (3, 20):
        Z = f32(rng, (7, cols), 2.0)
        Z[0, 0] = np.nan
        Z[1, cols - 1] = np.nan
        Z[2, 1] = np.inf
        Z[3, 0] = -np.inf
        Z[4, :] = -np.inf
        Z[5, :] = np.inf
        G = f32(rng, (7, cols))
        tZ = t64(Z, True)
        A = torch.softmax(tZ, dim=1)
        A.backward(t64(G))
        for n, arr, dt in [("Z", Z, F32), ("G", G, F32), ("A", A.detach(), F64),
                           ("dZ", tZ.grad, F64)]:
            save(sub, "act_softmax_7x%d_%s" % (cols, n), arr, dt)
        # softmax cross-entropy on the same rows, one-hot targets; row 3's target on its -inf
        # logit (loss inf), row 6 (finite) on column 1.  One case per row: the loss is a mean.
        T = np.zeros((7, cols), dtype=np.float32)
        T[:, 1] = 1.0
        T[3, :] = 0.0
        T[3, 0] = 1.0
        for r in range(7):
            loss_case_nf(sub, "ce_%d_row%d" % (cols, r), Z[r:r + 1], T[r:r + 1], F.cross_entropy)
    y = with_specials(rng, 24, [1, 4, 9, 12, 15, 18, 22])
    t = f32(rng, (1, 24))
    loss_case_nf(sub, "mse_1x24", y, t, F.mse_loss)
    # BCE: y in [0, 1] with exact 0 and 1 (finite: the clamp), then a NaN among the first 16
    # (vector part), a NaN in the tail, +-inf, and finite y outside [0, 1]
    base = rng.uniform(0.0, 1.0, (1, 24)).astype(np.float32)
    base[0, 2], base[0, 7], base[0, 19] = 0.0, 1.0, 1e-30
    tb = rng.uniform(0.0, 1.0, (1, 24)).astype(np.float32)
    for tag, pos, val in [("in_range", None, None), ("nan_head", 5, np.nan),
                          ("nan_tail", 21, np.nan), ("inf", 3, np.inf), ("ninf", 20, -np.inf),
                          ("above_one", 11, 2.0), ("below_zero", 17, -0.5)]:
        yb = base.copy()
        if pos is not None:
            yb[0, pos] = val
        bce_case_nf(sub, "bce_" + tag, yb, tb)


def loss_case_nf(sub, tag, Y, T, fn):
    tY = t64(Y, True)
    L = fn(tY, t64(T))
    L.backward()
    for n, arr, dt in [("Y", Y, F32), ("T", T, F32), ("loss", L.detach(), F64),
                       ("G", tY.grad, F64)]:
        save(sub, tag + "_" + n, arr, dt)


def bce_case_nf(sub, tag, Y, T):
    """PyTorch's answer where it has one; where y leaves [0, 1] it raises (checked here), and
    the reference is NaN for that element's gradient and for the loss."""
    bad = ~((Y >= 0.0) & (Y <= 1.0))
    for y in Y[bad]:
        try:
            F.binary_cross_entropy(t64([y]), t64([0.5]))
        except RuntimeError:
            continue
        raise SystemExit("PyTorch accepted y = %r in binary_cross_entropy" % y)
    n = Y.size
    tY = t64(np.where(bad, 0.5, Y), True)
    L = F.binary_cross_entropy(tY, t64(T), reduction="sum") / n
    L.backward()
    loss = np.array(np.nan if bad.any() else L.item())
    grad = np.where(bad, np.nan, tY.grad.numpy())
    for nm, arr, dt in [("Y", Y, F32), ("T", T, F32), ("loss", loss, F64), ("G", grad, F64)]:
        save(sub, tag + "_" + nm, arr, dt)


# ---- training trajectories -------------------------------------------------------------------

MODULES = {"identity": torch.nn.Identity, "relu": torch.nn.ReLU,
           "leaky_relu": lambda: torch.nn.LeakyReLU(0.01), "sigmoid": torch.nn.Sigmoid,
           "tanh": torch.nn.Tanh}


def init_params(rng, sizes, acts):
    """float32 initial weights in nablas' layout: per layer W (in x out), then b (out).
    He-normal before (leaky) ReLU, Xavier-uniform otherwise; small random biases so that
    the bias path is exercised from the first step."""
    flat = []
    for (i, o), act in zip(zip(sizes[:-1], sizes[1:]), acts):
        if act in ("relu", "leaky_relu"):
            W = rng.standard_normal((i, o)) * np.sqrt(2.0 / i)
        else:
            a = np.sqrt(6.0 / (i + o))
            W = rng.uniform(-a, a, (i, o))
        flat += [W.astype(np.float32).ravel(), rng.uniform(-0.1, 0.1, o).astype(np.float32)]
    return np.concatenate(flat)


def flatten(linears):
    return np.concatenate([np.concatenate([m.weight.detach().numpy().T.ravel(),
                                           m.bias.detach().numpy().ravel()]) for m in linears])


def trajectory(name, rng, sizes, acts, loss, X, T, batch, steps, lr, dtype):
    """Trains with torch.nn.Linear layers and torch.optim.SGD on fixed sequential batches
    (no shuffling) and saves the data, the parameters before and after every step and the
    loss of every step."""
    p0 = init_params(rng, sizes, acts)
    layers, linears, off = [], [], 0
    for (i, o), act in zip(zip(sizes[:-1], sizes[1:]), acts):
        lin = torch.nn.Linear(i, o).to(dtype)
        with torch.no_grad():  # torch stores the weight as out x in: transpose
            lin.weight.copy_(torch.tensor(p0[off:off + i * o].reshape(i, o).T.copy()))
            lin.bias.copy_(torch.tensor(p0[off + i * o:off + i * o + o]))
        off += i * o + o
        linears.append(lin)
        layers += [lin, MODULES[act]()]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    crit = {"mse": torch.nn.MSELoss(), "bce": torch.nn.BCELoss(),
            "softmax_ce": torch.nn.CrossEntropyLoss()}[loss]
    tX, tT = torch.tensor(X).to(dtype), torch.tensor(T).to(dtype)
    params, losses = [flatten(linears)], []
    for s in range(steps):
        lo = (s * batch) % X.shape[0]
        xb, tb = tX[lo:lo + batch], tT[lo:lo + batch]
        if loss == "softmax_ce":
            tb = tb.argmax(dim=1)  # one-hot rows as class indices
        opt.zero_grad()
        L = crit(net(xb), tb)
        L.backward()
        opt.step()
        params.append(flatten(linears))
        losses.append(L.item())
    dt = F32 if dtype == torch.float32 else F64
    meta = np.array([batch, steps, lr] + list(sizes), dtype=np.float64)
    for n, arr, d in [("meta", meta, F64), ("X", X, F32), ("T", T, F32),
                      ("params", np.stack(params), dt), ("losses", losses, F64)]:
        save("traj", name + "_" + n, arr, d)


def house_data(rng, n):
    size = rng.uniform(500.0, 3500.0, n)
    bedrooms = rng.integers(1, 6, n).astype(np.float64)
    age = rng.uniform(0.0, 50.0, n)
    dist = rng.uniform(0.5, 30.0, n)
    price = 600 * size + 5 * bedrooms + 15 * age + 12 * dist + 50000 * rng.standard_normal(n)
    X = np.stack([size, bedrooms, age, dist], axis=1)
    std = lambda a: (a - a.mean(axis=0)) / a.std(axis=0)
    return std(X).astype(np.float32), std(price).reshape(n, 1).astype(np.float32)


def make_trajectories():
    d64, d32 = torch.float64, torch.float32
    rng = np.random.default_rng(101)
    X, T = f32(rng, (320, 4)), rng.uniform(0, 1, (320, 3)).astype(np.float32)
    trajectory("a_relu_sigmoid_mse", rng, [4, 16, 8, 3], ["relu", "relu", "sigmoid"], "mse",
               X, T, 32, 10, 0.1, d64)

    rng = np.random.default_rng(102)
    X = f32(rng, (160, 64))
    T = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 160)]
    trajectory("b_relu_softmax_ce", rng, [64, 32, 10], ["relu", "identity"], "softmax_ce",
               X, T, 16, 10, 0.1, d64)

    rng = np.random.default_rng(103)
    X, T = house_data(rng, 200)
    trajectory("c_house_linear", rng, [4, 8, 4, 1], ["identity"] * 3, "mse",
               X, T, 200, 20, 0.05, d64)

    rng = np.random.default_rng(104)
    X = f32(rng, (80, 6))
    T = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0).astype(np.float32).reshape(80, 1)
    trajectory("d_tanh_leaky_bce_f32", rng, [6, 12, 8, 1], ["tanh", "leaky_relu", "sigmoid"],
               "bce", X, T, 8, 10, 0.5, d32)


# ---- input derivatives (tests/data/deriv) ----------------------------------------------------

# nb_act's values (include/nablas/kernels.h) and the function each stands for
DERIV_ACTS = {"identity": (0, lambda z: z), "relu": (1, torch.relu),
              "leaky_relu": (2, lambda z: F.leaky_relu(z, 0.01)), "sigmoid": (3, torch.sigmoid),
              "tanh": (4, torch.tanh), "softmax": (5, lambda z: torch.softmax(z, dim=-1)),
              "gelu": (6, F.gelu), "gelu_tanh": (7, lambda z: F.gelu(z, approximate="tanh")),
              "silu": (8, F.silu), "softplus": (9, F.softplus), "elu": (10, F.elu)}

# tag, layer sizes (inputs first), activations, probabilities (softmax of the output),
# standardisations (input and target)
DERIV_CASES = [
    ("tanh_4_16_16_3", [4, 16, 16, 3], ["tanh", "tanh", "identity"], False, False),
    ("tanh_4_16_16_3_norm", [4, 16, 16, 3], ["tanh", "tanh", "identity"], False, True),
    ("sigmoid_5_12_4", [5, 12, 4], ["sigmoid", "sigmoid"], False, False),
    ("sigmoid_5_12_4_norm", [5, 12, 4], ["sigmoid", "sigmoid"], False, True),
    ("relu_6_16_8_3", [6, 16, 8, 3], ["relu", "relu", "identity"], False, False),
    ("relu_6_16_8_3_norm", [6, 16, 8, 3], ["relu", "relu", "identity"], False, True),
    ("leaky_3_10_7", [3, 10, 7], ["leaky_relu", "leaky_relu"], False, False),
    ("leaky_3_10_7_norm", [3, 10, 7], ["leaky_relu", "leaky_relu"], False, True),
    ("identity_4_5_6", [4, 5, 6], ["identity", "identity"], False, False),
    ("identity_4_5_6_norm", [4, 5, 6], ["identity", "identity"], False, True),
    ("softmax_out_5_8_4", [5, 8, 4], ["tanh", "softmax"], False, False),
    ("softmax_out_5_8_4_norm", [5, 8, 4], ["tanh", "softmax"], False, True),
    ("logits_6_12_5", [6, 12, 5], ["relu", "identity"], False, False),
    ("logits_6_12_5_norm", [6, 12, 5], ["relu", "identity"], False, True),
    ("probs_6_12_5", [6, 12, 5], ["relu", "identity"], True, False),
    ("probs_6_12_5_norm", [6, 12, 5], ["relu", "identity"], True, True),
    ("tanh_2_9_8", [2, 9, 8], ["tanh", "identity"], False, False),  # inputs < outputs
    ("mixed_9_8_7_1", [9, 8, 7, 1], ["sigmoid", "leaky_relu", "tanh"], False, True),
    ("gelu_5_12_3", [5, 12, 3], ["gelu", "identity"], False, False),
    ("gelu_5_12_3_norm", [5, 12, 3], ["gelu", "identity"], False, True),
    ("gelu_tanh_5_12_3", [5, 12, 3], ["gelu_tanh", "identity"], False, False),
    ("gelu_tanh_5_12_3_norm", [5, 12, 3], ["gelu_tanh", "identity"], False, True),
    ("silu_4_10_6", [4, 10, 6], ["silu", "silu"], False, False),
    ("silu_4_10_6_norm", [4, 10, 6], ["silu", "silu"], False, True),
    ("softplus_6_9_2", [6, 9, 2], ["softplus", "softplus"], False, False),
    ("softplus_6_9_2_norm", [6, 9, 2], ["softplus", "softplus"], False, True),
    ("elu_3_11_4", [3, 11, 4], ["elu", "elu"], False, False),
    ("elu_3_11_4_norm", [3, 11, 4], ["elu", "elu"], False, True),
    ("gelu_silu_probs_7_10_8_4", [7, 10, 8, 4], ["gelu", "silu", "identity"], True, True),
]


def make_deriv(rng):
    """For each case: a network (float32 parameters in nablas' layout), rows X, tangents V
    and cotangents U, and in float64 PyTorch's outputs Y, Jacobian J (rows x outputs x inputs,
    torch.autograd.functional.jacobian per row), jvp J v and vjp u^T J (torch.autograd.
    functional.jvp, vjp) of y = sy * s(net((x - mx) / sx)) + my."""
    rows = 7
    for tag, sizes, acts, probs, norm in DERIV_CASES:
        n, m = sizes[0], sizes[-1]
        params = init_params(rng, sizes, acts)
        X = f32(rng, (rows, n), 1.5)
        V, U = f32(rng, (rows, n)), f32(rng, (rows, m))
        if norm:
            mx, sx = f32(rng, (n,), 2.0), rng.uniform(0.5, 3.0, n).astype(np.float32)
            my = f32(rng, (m,), 2.0)
            sy = (rng.uniform(0.5, 3.0, m) if not probs and acts[-1] != "softmax"
                  else np.ones(m)).astype(np.float32)
            X = (X * sx + mx).astype(np.float32)  # rows in the data's own units
            if probs or acts[-1] == "softmax":
                my = np.zeros(m, dtype=np.float32)  # no target standardisation on classifiers
        else:
            mx, sx = np.zeros(n, np.float32), np.ones(n, np.float32)
            my, sy = np.zeros(m, np.float32), np.ones(m, np.float32)
        Ws, bs, off = [], [], 0
        for i, o in zip(sizes[:-1], sizes[1:]):
            Ws.append(t64(params[off:off + i * o].reshape(i, o)))
            bs.append(t64(params[off + i * o:off + i * o + o]))
            off += i * o + o

        def f(x):
            a = (x - t64(mx)) / t64(sx)
            for W, b, act in zip(Ws, bs, acts):
                a = DERIV_ACTS[act][1](a @ W + b)
            if probs:
                a = torch.softmax(a, dim=-1)
            return a * t64(sy) + t64(my)

        tX = t64(X)
        Y = f(tX)
        J = torch.stack([torch.autograd.functional.jacobian(f, tX[b]) for b in range(rows)])
        _, JV = torch.autograd.functional.jvp(f, tX, t64(V))
        _, UJ = torch.autograd.functional.vjp(f, tX, t64(U))
        meta = np.array([len(acts), probs, norm] + sizes + [DERIV_ACTS[a][0] for a in acts],
                        dtype=np.float64)
        for name, arr, dt in [("meta", meta, F64), ("params", params, F32), ("X", X, F32),
                              ("V", V, F32), ("U", U, F32), ("mx", mx, F32), ("sx", sx, F32),
                              ("my", my, F32), ("sy", sy, F32), ("Y", Y, F64), ("J", J, F64),
                              ("JV", JV, F64), ("UJ", UJ, F64)]:
            save("deriv", tag + "_" + name, arr, dt)


# ---- float64 kernels (tests/data/f64) ----------------------------------------------------------
# nablas' float64 kernels against torch.float64: inputs are full float64 values (not float32
# ones), references torch's float64 answers, every file '<f8'.  Run alone with
# `/usr/bin/python3 tools/make_reference.py --f64` (the float32 data above stays untouched).

F64_DENSE_SHAPES = [(1, 1, 1), (17, 13, 11), (64, 128, 96), (3, 257, 5)]
F64_ACT_SHAPES = [(1, 1), (17, 13), (7, 129)]
F64_LOSS_SHAPES = [(1, 1), (17, 13), (64, 10), (5, 33)]


def f64(rng, shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def make_f64_dense(rng):
    for b, i, o in F64_DENSE_SHAPES:
        tag = "dense_" + shape_tag((b, i, o))
        X, W, bias, G = f64(rng, (b, i)), f64(rng, (i, o), 0.3), f64(rng, (1, o)), f64(rng, (b, o))
        tX, tW, tb = t64(X, True), t64(W, True), t64(bias, True)
        Z = tX @ tW + tb
        Z.backward(t64(G))
        for name, arr in [("X", X), ("W", W), ("b", bias), ("G", G), ("Z", Z.detach()),
                          ("dW", tW.grad), ("db", tb.grad), ("dX", tX.grad)]:
            save("f64", tag + "_" + name, arr, F64)


# PyTorch's float64 derivative cancels where these forms do not (GELU's 1 + erf and 1 + tanh
# are 0 below z = -8, where the derivative is 1e-15 and less): the reference dZ is autograd of
# the accurate form, checked against PyTorch's own within the size of that cancellation.
F64_ACCURATE = {
    "gelu": lambda z: 0.5 * z * torch.special.erfc(-z * 0.5 ** 0.5),
    "gelu_tanh": lambda z: z * torch.sigmoid(2.0 * (2.0 / np.pi) ** 0.5 * (z + 0.044715 * z ** 3)),
    "elu": lambda z: torch.where(z > 0, z, torch.expm1(z.clamp(max=0.0))),
}


def f64_act_grad(name, Z, G):
    """A = f(Z) and dZ = f'(Z) G in torch.float64 (accurate forms where F64_ACCURATE has one)."""
    tZ = t64(Z, True)
    A = ACTS[name](tZ)
    if name == "identity":  # identity's autograd node is a no-op: make one
        A = tZ * 1.0
    A.backward(t64(G))
    if name not in F64_ACCURATE:
        return A.detach(), tZ.grad
    tZ2 = t64(Z, True)
    A2 = F64_ACCURATE[name](tZ2)
    A2.backward(t64(G))
    d, d_torch = tZ2.grad, tZ.grad
    # the size of that cancellation: ulp(1) times the derivative's factors (z, and for the tanh
    # form b (1 + 3 k z^2), up to 1e3 on the wide grid) times G
    scale = torch.clamp(d_torch.abs(), min=1.0) * (1.0 + t64(Z).abs() ** 3) * (1.0 + t64(G).abs())
    assert bool(((d - d_torch).abs() <= 1e-15 * scale).all()), name
    return A.detach(), d


def make_f64_acts(rng):
    grid = np.linspace(-14.0, 30.0, 441)
    near20 = 20.0 + np.linspace(-0.01, 0.01, 41)  # 20.0 itself included: softplus' threshold
    tiny = np.concatenate([s * 10.0 ** -np.arange(1.0, 11.0) for s in (1.0, -1.0)])
    wide = np.concatenate([grid, near20, tiny]).reshape(1, -1)
    for name in ACTS:
        cases = [(shape_tag(s), f64(rng, s, 3.0)) for s in F64_ACT_SHAPES]
        cases.append(("wide_1x" + str(wide.shape[1]), wide))
        for st, Z in cases:
            G = f64(rng, Z.shape)
            A, dZ = f64_act_grad(name, Z, G)
            for n, arr in [("Z", Z), ("G", G), ("A", A), ("dZ", dZ)]:
                save("f64", "act_" + name + "_" + st + "_" + n, arr, F64)


def f64_loss_case(tag, Y, T, fn):
    tY = t64(Y, True)
    L = fn(tY, t64(T))
    L.backward()
    for n, arr in [("Y", Y), ("T", T), ("loss", L.detach()), ("G", tY.grad)]:
        save("f64", "loss_" + tag + "_" + n, arr, F64)


def make_f64_losses(rng):
    for shape in F64_LOSS_SHAPES:
        st = shape_tag(shape)
        rows, cols = shape
        f64_loss_case("mse_" + st, f64(rng, shape), f64(rng, shape), F.mse_loss)
        y = 1.0 / (1.0 + np.exp(-3.0 * rng.standard_normal(shape)))
        f64_loss_case("bce_" + st, y, rng.uniform(0.0, 1.0, shape), F.binary_cross_entropy)
        logits = f64(rng, shape, 2.0)
        idx = rng.integers(0, cols, rows)
        f64_loss_case("ce_onehot_" + st, logits, np.eye(cols)[idx],
                      lambda y, _t, idx=idx: F.cross_entropy(y, torch.tensor(idx)))
        p = np.exp(f64(rng, shape))
        f64_loss_case("ce_prob_" + st, logits, p / p.sum(axis=1, keepdims=True), F.cross_entropy)
    logits = f64(rng, (17, 13), 2.0)
    p = np.exp(f64(rng, (17, 13)))
    f64_loss_case("ce_partial_17x13", logits, 0.8 * p / p.sum(axis=1, keepdims=True),
                  F.cross_entropy)
    # large logits: the max shift keeps exp finite
    f64_loss_case("ce_large_3x4", np.array([[800.0, 790.0, -5.0, 0.0], [-800.0, -799.0, -810.0, -805.0],
                                            [1e-3, 2e-3, 0.0, -1e-3]]),
                  np.eye(4)[[0, 1, 3]], F.cross_entropy)
    y = np.array([[0.0, 0.0, 1.0, 1.0, 1e-300, 0.5, 1e-8, 1.0 - 1e-12]])
    t = np.array([[0.0, 1.0, 0.0, 1.0, 1.0, 0.25, 0.0, 1.0]])
    f64_loss_case("bce_edges_1x8", y, t, F.binary_cross_entropy)


def make_f64():
    torch.set_num_threads(1)
    make_f64_dense(np.random.default_rng(201))
    make_f64_acts(np.random.default_rng(202))
    make_f64_losses(np.random.default_rng(203))


def main():
    if sys.argv[1:] == ["--f64"]:  # the float64 kernel data alone
        make_f64()
        print("wrote", os.path.normpath(os.path.join(OUT, "f64")), file=sys.stderr)
        return
    torch.set_num_threads(1)  # one summation order, run after run
    torch.manual_seed(0)
    make_dense(np.random.default_rng(1))
    make_acts(np.random.default_rng(2))
    make_losses(np.random.default_rng(3))
    make_nonfinite(np.random.default_rng(4))
    make_trajectories()
    reference_optim.make_optim(save)
    reference_lbfgs.make(save)  # full-batch L-BFGS goldens (tests/data/fullbatch)
    make_deriv(np.random.default_rng(105))  # input derivatives (tests/data/deriv)
    make_f64()  # float64 kernels (tests/data/f64)
    print("wrote", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
