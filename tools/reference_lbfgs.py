"""Golden values for nablas' full-batch L-BFGS (tests/fullbatch/test_lbfgs.c): called by
make_reference.py, writes tests/data/fullbatch/*.npy.

A 3-6-4-1 tanh network (float32, as nablas trains) from fixed parameters on 64 fixed rows, MSE.
For k = 1..20, a fresh copy runs one torch.optim.LBFGS.step(closure) with max_iter = k (and
max_eval large enough never to stop it), so the loss after step k is the loss after the k-th
iteration of one 20-iteration run.  Once with line_search_fn=None (lr 1), once with
'strong_wolfe'.  The parameters are stored in nablas' layout (W as in x out, then b).
"""
import numpy as np
import torch

ITERS = 20
SIZES = [3, 6, 4, 1]


def build(params0):
    layers, off = [], 0
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        lin = torch.nn.Linear(i, o).float()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(params0[off:off + i * o].reshape(i, o).T))
            lin.bias.copy_(torch.tensor(params0[off + i * o:off + i * o + o]))
        off += (i + 1) * o
        layers.append(lin)
    return torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1], torch.nn.Tanh(), layers[2])


def losses(X, T, params0, line_search, lr, history=100):
    tX, tT = torch.tensor(X), torch.tensor(T)
    out, iters = [], []
    for k in range(1, ITERS + 1):
        net = build(params0)
        opt = torch.optim.LBFGS(net.parameters(), lr=lr, max_iter=k, max_eval=100000,
                                history_size=history,
                                line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(tX), tT)
            loss.backward()
            return loss

        opt.step(closure)
        iters.append(opt.state[opt._params[0]]["n_iter"])
        with torch.no_grad():
            out.append(float(torch.nn.functional.mse_loss(net(tX), tT)))
    return out, iters


def make(save):
    rng = np.random.default_rng(301)
    X = rng.uniform(-2, 2, (64, 3)).astype(np.float32)
    T = (np.sin(X[:, :1] * 1.5) * np.cos(X[:, 1:2]) + 0.3 * X[:, 2:3]).astype(np.float32)
    params0 = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        a = np.sqrt(6.0 / (i + o))
        params0.append(rng.uniform(-a, a, i * o))
        params0.append(rng.uniform(-0.1, 0.1, o))
    params0 = np.concatenate(params0).astype(np.float32)
    save("fullbatch", "lbfgs_X", X, np.float32)
    save("fullbatch", "lbfgs_T", T, np.float32)
    save("fullbatch", "lbfgs_params0", params0, np.float32)
    for tag, ls, lr, hist in [("none", None, 1.0, 100), ("wolfe", "strong_wolfe", 5.0, 100),
                              ("wolfe_hist3", "strong_wolfe", 1.0, 3)]:
        vals, iters = losses(X, T, params0, ls, lr, hist)
        assert iters == list(range(1, ITERS + 1)), (tag, iters)  # no early stop
        save("fullbatch", "lbfgs_losses_" + tag, vals, np.float64)
