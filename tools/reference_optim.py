"""Optimizer, schedule and clipping references for tests/data/optim/ (imported by
make_reference.py, which passes its `save`; see tests/data/README.md for the cases).

- net_*: a 5-7-3 network (tanh, identity; MSE) trained 50 steps by each optimizer variant from
  the same float32 weights on the same sequential batches of 16 rows, in float64 (nablas' float32
  approximates it); `net_<case>_final` holds the parameters after the last step in nablas'
  layout (per layer W as in x out, then b).
- upd_*: the optimizer arithmetic alone: the same variants run in float32, as nablas does, on a
  flat buffer of 259 floats for 50 steps from a fixed gradient sequence (`upd_grads`, 50 x 259,
  magnitudes from 1e-4 to 1e2); `upd_<case>_final` is torch's float32 result.
- sched_*: learning rates of torch.optim.lr_scheduler stepped once per step; `_meta` holds the
  nb_schedule fields, `_lr` the rate after 0, 1, ..., n steps.
- clip_*: torch.nn.utils.clip_grad_norm_ in float64 on float32 gradients.
"""
import warnings

import numpy as np
import torch

F32, F64 = np.dtype("<f4"), np.dtype("<f8")
STEPS = 50

# kind: 0 SGD, 1 Adam, 2 AdamW, 3 RMSprop (nb_optim_kind).  Every field of nb_optim_opts, in
# the order the C test reads them from <case>_opts.
OPT_FIELDS = ["kind", "lr", "momentum", "dampening", "nesterov", "weight_decay", "beta1",
              "beta2", "eps", "amsgrad", "alpha", "centered"]
DEFAULTS = {0: dict(lr=0.01), 1: dict(lr=1e-3), 2: dict(lr=1e-3, weight_decay=1e-2),
            3: dict(lr=1e-2)}

CASES = [  # name, kind, options (lr set per group below when absent)
    ("sgd", 0, {}),
    ("sgd_wd", 0, dict(weight_decay=0.05)),
    ("sgd_mom", 0, dict(momentum=0.9)),
    ("sgd_mom_damp_wd", 0, dict(momentum=0.8, dampening=0.3, weight_decay=0.02)),
    ("sgd_nesterov", 0, dict(momentum=0.9, nesterov=True)),
    ("sgd_nesterov_wd", 0, dict(momentum=0.7, nesterov=True, weight_decay=0.05)),
    ("adam", 1, {}),
    ("adam_wd", 1, dict(weight_decay=0.05)),
    ("adam_amsgrad", 1, dict(amsgrad=True)),
    ("adam_amsgrad_wd", 1, dict(amsgrad=True, weight_decay=0.02)),
    ("adam_betas", 1, dict(beta1=0.8, beta2=0.95, eps=1e-6)),
    ("adamw", 2, {}),
    ("adamw_wd", 2, dict(weight_decay=0.3)),
    ("adamw_amsgrad", 2, dict(amsgrad=True, weight_decay=0.1)),
    ("rmsprop", 3, {}),
    ("rmsprop_wd", 3, dict(weight_decay=0.05)),
    ("rmsprop_mom", 3, dict(momentum=0.9)),
    ("rmsprop_centered", 3, dict(centered=True)),
    ("rmsprop_mom_centered_wd", 3, dict(momentum=0.5, centered=True, weight_decay=0.01)),
    ("rmsprop_alpha", 3, dict(alpha=0.9, eps=1e-6)),
]


def full_opts(kind, extra, lr):
    o = dict(kind=kind, lr=lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
             beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False, alpha=0.99, centered=False)
    o.update(DEFAULTS[kind])
    o["lr"] = lr
    o.update(extra)
    return o


def torch_optim(params, o):
    if o["kind"] == 0:
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"],
                               dampening=o["dampening"], nesterov=o["nesterov"],
                               weight_decay=o["weight_decay"], foreach=False)
    if o["kind"] in (1, 2):
        cls = torch.optim.Adam if o["kind"] == 1 else torch.optim.AdamW
        return cls(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                   weight_decay=o["weight_decay"], amsgrad=o["amsgrad"], foreach=False)
    return torch.optim.RMSprop(params, lr=o["lr"], alpha=o["alpha"], eps=o["eps"],
                               weight_decay=o["weight_decay"], momentum=o["momentum"],
                               centered=o["centered"], foreach=False)


def opts_array(o):
    return np.array([float(o[f]) for f in OPT_FIELDS], dtype=np.float64)


# ---- a small network, float64 ---------------------------------------------------------------

NET = [5, 7, 3]
NET_LR = {0: 0.1, 1: 0.01, 2: 0.01, 3: 0.003}


def net_case(save, name, o, p0, X, T, batch):
    sizes, off, linears = NET, 0, []
    for i, out in zip(sizes[:-1], sizes[1:]):
        lin = torch.nn.Linear(i, out).double()
        with torch.no_grad():  # torch stores W as out x in
            lin.weight.copy_(torch.tensor(p0[off:off + i * out].reshape(i, out).T.copy()))
            lin.bias.copy_(torch.tensor(p0[off + i * out:off + i * out + out]))
        off += i * out + out
        linears.append(lin)
    net = torch.nn.Sequential(linears[0], torch.nn.Tanh(), linears[1])
    opt = torch_optim(net.parameters(), o)
    tX, tT = torch.tensor(X).double(), torch.tensor(T).double()
    for s in range(STEPS):
        lo = (s * batch) % X.shape[0]
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(tX[lo:lo + batch]), tT[lo:lo + batch]).backward()
        opt.step()
    final = np.concatenate([np.concatenate([m.weight.detach().numpy().T.ravel(),
                                            m.bias.detach().numpy().ravel()]) for m in linears])
    save("optim", "net_" + name + "_opts", opts_array(o), F64)
    save("optim", "net_" + name + "_final", final, F64)


def make_net(save, rng):
    n_params = sum(i * o + o for i, o in zip(NET[:-1], NET[1:]))
    p0 = np.concatenate([rng.uniform(-0.6, 0.6, n_params - 10), rng.uniform(-0.1, 0.1, 10)])
    p0 = rng.permutation(p0).astype(np.float32)
    rows, batch = 64, 16
    X = rng.standard_normal((rows, NET[0])).astype(np.float32)
    T = np.tanh(X[:, :3] * X[:, 1:4] + 0.5).astype(np.float32)
    save("optim", "net_p0", p0, F32)
    save("optim", "net_X", X, F32)
    save("optim", "net_T", T, F32)
    save("optim", "net_meta", np.array([rows, batch, STEPS] + NET, dtype=np.float64), F64)
    for name, kind, extra in CASES:
        net_case(save, name, full_opts(kind, extra, NET_LR[kind]), p0, X, T, batch)


# ---- the update arithmetic alone, float32 ----------------------------------------------------

UPD_N = 259
UPD_LR = {0: 0.05, 1: 0.01, 2: 0.01, 3: 0.003}


def make_updates(save, rng):
    p0 = rng.standard_normal(UPD_N).astype(np.float32)
    scale = 10.0 ** rng.uniform(-4, 2, UPD_N)
    grads = (rng.standard_normal((STEPS, UPD_N)) * scale + 0.1 * scale).astype(np.float32)
    save("optim", "upd_p0", p0, F32)
    save("optim", "upd_grads", grads, F32)
    for name, kind, extra in CASES:
        o = full_opts(kind, extra, UPD_LR[kind])
        p = torch.tensor(p0.copy(), requires_grad=True)
        opt = torch_optim([p], o)
        for s in range(STEPS):
            p.grad = torch.tensor(grads[s])
            opt.step()
        save("optim", "upd_" + name + "_opts", opts_array(o), F64)
        save("optim", "upd_" + name + "_final", p.detach().numpy(), F32)


# ---- schedules -------------------------------------------------------------------------------

# nb_schedule fields, in the order of <case>_meta
SCHED_FIELDS = ["kind", "base_lr", "total_steps", "warmup_steps", "warmup_start_factor",
                "step_size", "gamma", "eta_min", "start_factor", "end_factor", "pct_start",
                "div_factor", "final_div_factor", "anneal", "three_phase"]
SCHED_DEFAULT = dict(kind=0, base_lr=0.01, total_steps=0, warmup_steps=0,
                     warmup_start_factor=0.01, step_size=1, gamma=0.1, eta_min=0.0,
                     start_factor=1 / 3, end_factor=1.0, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4, anneal=0, three_phase=0)
S = torch.optim.lr_scheduler

SCHEDULES = [  # name, fields, steps recorded
    ("constant", dict(kind=0, base_lr=0.05), 20),
    ("constant_warmup", dict(kind=0, base_lr=0.05, warmup_steps=8, warmup_start_factor=0.1), 30),
    ("step", dict(kind=1, base_lr=0.1, step_size=7, gamma=0.5), 60),
    ("step_warmup", dict(kind=1, base_lr=0.1, step_size=5, gamma=0.3, warmup_steps=10), 60),
    ("cosine", dict(kind=2, base_lr=0.1, total_steps=100), 150),
    ("cosine_floor_warmup", dict(kind=2, base_lr=3e-3, total_steps=130, eta_min=1e-4,
                                 warmup_steps=10, warmup_start_factor=0.01), 130),
    ("linear", dict(kind=3, base_lr=0.2, total_steps=80, start_factor=1.0, end_factor=0.0), 100),
    ("linear_default", dict(kind=3, base_lr=0.2, total_steps=40), 50),
    ("linear_warmup", dict(kind=3, base_lr=0.05, total_steps=65, start_factor=1.0,
                           end_factor=0.1, warmup_steps=5, warmup_start_factor=0.2), 70),
    ("onecycle", dict(kind=4, base_lr=0.1, total_steps=100), 100),
    ("onecycle_linear_3phase", dict(kind=4, base_lr=0.5, total_steps=97, pct_start=0.25,
                                    div_factor=10.0, final_div_factor=100.0, anneal=1,
                                    three_phase=1), 97),
]


def torch_main(opt, f):
    """The main schedule of f, as torch would be configured for it after the warm-up."""
    span = f["total_steps"] - f["warmup_steps"]
    if f["kind"] == 0:
        return S.LambdaLR(opt, lambda e: 1.0)
    if f["kind"] == 1:
        return S.StepLR(opt, step_size=f["step_size"], gamma=f["gamma"])
    if f["kind"] == 2:
        return S.CosineAnnealingLR(opt, T_max=span, eta_min=f["eta_min"])
    if f["kind"] == 3:
        return S.LinearLR(opt, start_factor=f["start_factor"], end_factor=f["end_factor"],
                          total_iters=span)
    return S.OneCycleLR(opt, max_lr=f["base_lr"], total_steps=span, pct_start=f["pct_start"],
                        anneal_strategy="linear" if f["anneal"] else "cos",
                        cycle_momentum=False, div_factor=f["div_factor"],
                        final_div_factor=f["final_div_factor"], three_phase=bool(f["three_phase"]))


def make_schedules(save):
    # SequentialLR steps its next scheduler with step(0) at the milestone, which torch 1.13
    # warns about; that is the composition nablas documents.
    warnings.filterwarnings("ignore", message="The epoch parameter")
    for name, fields, steps in SCHEDULES:
        f = dict(SCHED_DEFAULT)
        f.update(fields)
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=f["base_lr"])
        if f["warmup_steps"]:
            warm = S.LinearLR(opt, start_factor=f["warmup_start_factor"], end_factor=1.0,
                              total_iters=f["warmup_steps"])
            sched = S.SequentialLR(opt, [warm, torch_main(opt, f)],
                                   milestones=[f["warmup_steps"]])
        else:
            sched = torch_main(opt, f)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        save("optim", "sched_" + name + "_meta",
             np.array([float(f[k]) for k in SCHED_FIELDS], dtype=np.float64), F64)
        save("optim", "sched_" + name + "_lr", np.array(lrs), F64)


# ---- clipping --------------------------------------------------------------------------------

def make_clip(save, rng):
    cases = [
        ("clipped", (rng.standard_normal(1003) * 3).astype(np.float32), 1.0),
        ("unclipped", (rng.standard_normal(1003) * 3).astype(np.float32), 1e3),
        ("single", np.array([-4.0], dtype=np.float32), 0.5),
        ("huge", (rng.standard_normal(77) * 1e25).astype(np.float32), 2.0),
        ("tiny", (rng.standard_normal(40) * 1e-30).astype(np.float32), 1e-3),
    ]
    for name, g, max_norm in cases:
        t = torch.tensor(g.astype(np.float64), requires_grad=True)
        t.grad = t.detach().clone()
        total = torch.nn.utils.clip_grad_norm_([t], max_norm)
        save("optim", "clip_" + name + "_g", g, F32)
        save("optim", "clip_" + name + "_meta", np.array([max_norm, total.item()]), F64)
        save("optim", "clip_" + name + "_out", t.grad.numpy(), F64)


def make_optim(save):
    make_net(save, np.random.default_rng(201))
    make_updates(save, np.random.default_rng(202))
    make_schedules(save)
    make_clip(save, np.random.default_rng(203))
