# %% [markdown]
# # 2. Activation functions and their derivatives
#
# Without a non-linearity between layers, a stack of layers collapses into one linear map
# ($W_2(W_1x+b_1)+b_2$ is again $Wx+b$), and a linear model can only draw straight decision
# boundaries. The notes list the usual non-linearities; here each one is applied to a `Value`,
# and its derivative is **read off the graph** with `backward()` and compared with the
# textbook closed form.
#
# | name | $f(x)$ | $f'(x)$ |
# |---|---|---|
# | sigmoid | $\sigma(x)=\dfrac{1}{1+e^{-x}}$ | $\sigma(x)(1-\sigma(x))$ |
# | tanh | $\dfrac{e^x-e^{-x}}{e^x+e^{-x}}$ | $1-\tanh^2 x$ |
# | ReLU | $x$ if $x>0$, else $0$ | $1$ if $x>0$, else $0$ |
# | leaky ReLU | $x$ if $x>0$, else $0.01x$ | $1$ if $x>0$, else $0.01$ |
# | ELU | $x$ if $x>0$, else $\alpha(e^x-1)$ | $1$ if $x>0$, else $\alpha e^x$ |
# | GELU | $\tfrac12 x\,(1+\operatorname{erf}(x/\sqrt2))$ | $\Phi(x) + x\,\varphi(x)$ |
# | softplus | $\ln(1+e^x)$ | $\sigma(x)$ |
#
# ($\Phi$ and $\varphi$ are the standard normal CDF and density.)

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

from autograd import Value, draw, grad, gradcheck, gradgradcheck

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
ALPHA, SLOPE = 1.0, 0.01
erf = np.vectorize(math.erf)
sig = lambda x: 1 / (1 + np.exp(-x))
phi = lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
Phi = lambda x: 0.5 * (1 + erf(x / math.sqrt(2)))

# name -> (apply to a Value, closed form f, closed form f')
ACTS = {
    "sigmoid":    (lambda v: v.sigmoid(),    sig,                                   lambda x: sig(x) * (1 - sig(x))),
    "tanh":       (lambda v: v.tanh(),       np.tanh,                               lambda x: 1 - np.tanh(x) ** 2),
    "relu":       (lambda v: v.relu(),       lambda x: np.where(x > 0, x, 0.0),     lambda x: np.where(x > 0, 1.0, 0.0)),
    "leaky_relu": (lambda v: v.leaky_relu(), lambda x: np.where(x > 0, x, SLOPE * x), lambda x: np.where(x > 0, 1.0, SLOPE)),
    "elu":        (lambda v: v.elu(),        lambda x: np.where(x > 0, x, ALPHA * np.expm1(x)), lambda x: np.where(x > 0, 1.0, ALPHA * np.exp(x))),
    "gelu":       (lambda v: v.gelu(),       lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))), lambda x: Phi(x) + x * phi(x)),
    "softplus":   (lambda v: v.softplus(),   lambda x: np.log1p(np.exp(x)),          sig),
}


def from_graph(f, xs):
    """f(x) and f'(x) at each x, the derivative coming from backward() on a fresh graph."""
    ys, ds = [], []
    for x in xs:
        v = Value(float(x))
        out = f(v)
        out.backward()
        ys.append(out.data)
        ds.append(v.grad)
    return np.array(ys), np.array(ds)

# %% [markdown]
# Evaluate every activation on a grid from −5 to 5 (the grid avoids $x=0$ exactly; the kink is
# discussed below) and compare with the closed forms:

# %%
xs = np.linspace(-5, 5, 400)
assert not np.any(xs == 0)
graph = {}
print(f"{'activation':<11} {'max |f - closed form|':>22} {'max |f′ - closed form|':>24}")
for name, (f, closed, dclosed) in ACTS.items():
    ys, ds = from_graph(f, xs)
    graph[name] = ys, ds
    err_f, err_d = np.max(np.abs(ys - closed(xs))), np.max(np.abs(ds - dclosed(xs)))
    print(f"{name:<11} {err_f:>22.2e} {err_d:>24.2e}")
    assert err_f < 1e-12 and err_d < 1e-12, name
    assert gradcheck(f, [0.37]) and gradcheck(f, [-1.3])   # and finite differences agree

# %%
fig, axes = plt.subplots(2, 4, figsize=(10, 4.4), sharex=True)
for ax, (name, (ys, ds)) in zip(axes.flat, graph.items()):
    ax.plot(xs, ys, label="f (graph)")
    ax.plot(xs, ds, label="f′ (backward)")
    ax.plot(xs[::25], ACTS[name][2](xs[::25]), "k.", ms=3, label="f′ closed form")
    ax.axhline(0, color="grey", lw=0.5); ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(name)
axes.flat[-1].axis("off")
axes.flat[0].legend(loc="upper left", fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Vanishing gradients
#
# The notes' warning about sigmoid and tanh: "at the extremes of the graph the gradients are
# almost zero". Concretely, $\sigma'(x)=\sigma(x)(1-\sigma(x))$ is at most $\tfrac14$ (at
# $x=0$) and $\tanh'$ at most $1$, and both decay like $e^{-|x|}$. A saturated unit passes
# back almost nothing.

# %%
for name in ("sigmoid", "tanh"):
    _, ds = graph[name]
    print(f"{name:<8} max f' = {ds.max():.4f}   f'(±5) = {ds[0]:.2e}")
_, dsig = graph["sigmoid"]
assert dsig.max() <= 0.25 and abs(from_graph(ACTS["sigmoid"][0], [0.0])[1][0] - 0.25) < 1e-15
assert from_graph(ACTS["sigmoid"][0], [10.0])[1][0] < 5e-5
assert from_graph(ACTS["tanh"][0], [10.0])[1][0] < 1e-8

# %% [markdown]
# In a deep network the chain rule *multiplies* one such factor per layer. Take the simplest
# deep net, a chain $a_{k} = f(w\,a_{k-1})$, and measure $\partial a_n/\partial a_0$ from the
# graph as the depth $n$ grows. With $w=1$ every sigmoid factor is at most $\tfrac14$, so the
# gradient shrinks at least as fast as $4^{-n}$, while ReLU on a positive input passes a factor
# of exactly $1$. Tanh with $w=1$ is gentler (its slope is $1$ near $0$, where this chain
# drifts), but once the weights are large enough to push units into saturation ($w=4$) its
# gradient vanishes as well.

# %%
def chain_grad(act, depth, w, x0=0.5):
    a0 = Value(x0)
    a = a0
    for _ in range(depth):
        a = act(w * a)
    a.backward()
    return a0.grad


depths = range(1, 21)
cases = {"sigmoid, w=1": ("sigmoid", 1.0), "tanh, w=1": ("tanh", 1.0),
         "tanh, w=4": ("tanh", 4.0), "relu, w=1": ("relu", 1.0)}
chains = {k: [abs(chain_grad(ACTS[name][0], n, w)) for n in depths] for k, (name, w) in cases.items()}
for n, g in zip(depths, chains["sigmoid, w=1"]):
    assert g <= 0.25 ** n
assert all(g == 1.0 for g in chains["relu, w=1"])
assert all(g <= 1.0 for g in chains["tanh, w=1"])     # each factor 1 - tanh² ≤ 1
assert chains["tanh, w=4"][-1] < 1e-30                # saturated: vanished

fig, ax = plt.subplots(figsize=(5, 3))
for k, gs in chains.items():
    ax.semilogy(list(depths), gs, "o-", ms=3, label=k)
ax.semilogy(list(depths), [0.25 ** n for n in depths], "k--", lw=0.8, label="$4^{-n}$")
ax.set_xlabel("depth n"); ax.set_ylabel("|∂aₙ/∂a₀|"); ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# This is why the notes recommend ReLU for hidden layers in practice. (ReLU has its own
# failure: a unit whose input is negative for every example gets gradient 0 and stops
# learning. Leaky ReLU, ELU and GELU keep a small gradient on the negative side.)
#
# ## The kink at zero: a convention
#
# ReLU, leaky ReLU and ELU are not differentiable at $x=0$; an implementation must pick a
# value. The engine follows PyTorch: it uses the **left** derivative there, so
# $\mathrm{relu}'(0)=0$, $\mathrm{leaky\_relu}'(0)=0.01$, $\mathrm{elu}'(0)=\alpha$.
#
# The notes' table writes leaky ReLU as "$x$ for $x\ge 0$, $0.01x$ for $x<0$", which puts
# $x=0$ on the *right* branch and would suggest $f'(0)=1$. Both definitions give the same
# **function** (the two branches meet at $f(0)=0$); only the value chosen for the derivative at
# the single point $0$ differs. For ReLU and ELU the notes put $0$ on the left branch
# ($x\le 0$), which matches the engine.

# %%
at_zero = {name: from_graph(ACTS[name][0], [0.0]) for name in ("relu", "leaky_relu", "elu")}
for name, (y0, d0) in at_zero.items():
    print(f"{name:<11} f(0) = {y0[0]}   f'(0) used by the engine = {d0[0]}")
assert at_zero["relu"][1][0] == 0.0
assert at_zero["leaky_relu"][1][0] == SLOPE          # engine / PyTorch
notes_leaky = lambda x: x if x >= 0 else 0.01 * x     # the notes' table, read literally
assert notes_leaky(0.0) == at_zero["leaky_relu"][0][0] == 0.0   # same function value
assert at_zero["elu"][1][0] == ALPHA

# %% [markdown]
# ## Second derivatives
#
# `grad(out, [x], create_graph=True)` returns the derivative as a new `Value` **with its own
# graph**, built from the same op-table formulas (for sigmoid: `out * (1 - out)`). Calling
# `grad` on that gives the second derivative. Closed forms to compare with:
#
# * $\sigma'' = \sigma'(1-2\sigma)$
# * $\tanh'' = -2\tanh x\,(1-\tanh^2 x)$
# * $\mathrm{softplus}'' = \sigma'(x)$
# * $\mathrm{GELU}'' = \varphi(x)\,(2-x^2)$
# * $\mathrm{ELU}'' = \alpha e^x$ for $x<0$, $0$ for $x>0$
#
# Here is the graph that `grad(create_graph=True)` builds for the sigmoid's derivative at
# $x=0.5$: the op table's formula $\sigma'(x) = \text{out}\cdot(1-\text{out})$, applied to
# the sigmoid node itself (the final `* 1` is the chain rule multiplying by
# $\partial\sigma/\partial\sigma = 1$).

# %%
x = Value(0.5, "x")
s = x.sigmoid(); s.label = "σ(x)"
ds, = grad(s, [x], create_graph=True)
ds.label = "σ′(x)"
d2s, = grad(ds, [x])
assert ds.data == s.data * (1 - s.data) and ds.op == "*"
print(f"σ′(0.5) = {ds.data:.6f}   σ″(0.5) = {d2s.data:.6f}")
draw(ds, show_grad=False)

# %%
def second(f, x):
    v = Value(x)
    d1, = grad(f(v), [v], create_graph=True)
    d2, = grad(d1, [v])
    return d1.data, d2.data


SECOND = {
    "sigmoid":  lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
    "tanh":     lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
    "softplus": lambda x: sig(x) * (1 - sig(x)),
    "gelu":     lambda x: phi(x) * (2 - x * x),
    "elu":      lambda x: np.where(x > 0, 0.0, ALPHA * np.exp(x)),
}
fig, ax = plt.subplots(figsize=(5, 3))
for name, closed in SECOND.items():
    f, d1_closed = ACTS[name][0], ACTS[name][2]
    pairs = np.array([second(f, float(x)) for x in xs])
    assert np.max(np.abs(pairs[:, 0] - d1_closed(xs))) < 1e-12, name
    assert np.max(np.abs(pairs[:, 1] - closed(xs))) < 1e-12, name
    assert gradgradcheck(f, [0.37]) and gradgradcheck(f, [-1.3])
    ax.plot(xs, pairs[:, 1], label=name)
ax.set_title("f″ from grad(grad(·, create_graph=True))"); ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# The sigmoid's second derivative vanishes at $0$, where $\sigma'$ peaks at $\tfrac14$; GELU's
# changes sign at $|x|=\sqrt2$. Second derivatives are what Newton-type optimizers and
# curvature analyses use; here they are one more check that the engine's derivative formulas
# are themselves differentiable graphs.
