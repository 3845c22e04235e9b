# %% [markdown]
# # 4. The four equations of backpropagation
#
# Lesson 3 followed one chain. In a full layer-to-layer network
#
# $$z_j^l = \sum_k w_{jk}^l\,a_k^{l-1} + b_j^l, \qquad a_j^l = \sigma(z_j^l),$$
#
# the notes define the **error** of neuron $j$ in layer $l$ as the sensitivity of the cost to
# its pre-activation, $\delta_j^l = \partial C/\partial z_j^l$, and derive four equations from
# the chain rule:
#
# | | equation | in words |
# |---|---|---|
# | **BP1** | $\delta_j^L = \dfrac{\partial C}{\partial a_j^L}\,\sigma'(z_j^L)$ | error at the output layer |
# | **BP2** | $\delta_j^l = \sum_k \delta_k^{l+1}\,w_{kj}^{l+1}\,\sigma'(z_j^l)$ | errors flow backwards through the transposed weights |
# | **BP3** | $\dfrac{\partial C}{\partial b_j^l} = \delta_j^l$ | bias gradient = the error |
# | **BP4** | $\dfrac{\partial C}{\partial w_{jk}^l} = \delta_j^l\,a_k^{l-1}$ | weight gradient = error × incoming activation |
#
# In vector form BP2 is $\boldsymbol\delta^l = \big((W^{l+1})^{\!\top}\boldsymbol\delta^{l+1}\big)\odot\sigma'(\mathbf z^l)$
# and BP4 is the outer product $\partial C/\partial W^l = \boldsymbol\delta^l\,(\mathbf a^{l-1})^{\!\top}$.
#
# The engine knows none of this: it only multiplies local derivatives along edges. Here we
# compute $\delta$ with numpy from the equations, and compare with the gradients the graph
# produces on a small random network — including $\partial C/\partial z_j^l$ itself, which
# backward stores on the $z$ node.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value, draw, grad
from nn import MLP, Layer

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
TOL = dict(rtol=1e-12, atol=1e-14)
sig = lambda z: 1 / (1 + np.exp(-z))
dsig = lambda z: sig(z) * (1 - sig(z))

# %% [markdown]
# ## A small random network
#
# `nn.MLP(3, [4, 4, 2])` with sigmoid on every layer, one training example, and the notes'
# quadratic cost $C = \tfrac12\lVert\mathbf y - \mathbf a^L\rVert^2$. We run the layers one at
# a time so we can keep each layer's pre-activations: a neuron's output is the sigmoid node,
# and its only child is the $z$ node, $\sum_k w_{jk}a_k + b_j$.

# %%
model = MLP(3, [4, 4, 2], activation="sigmoid", output_activation="sigmoid", seed=4)
x = [0.5, -1.2, 0.8]
y = np.array([1.0, 0.0])

acts, zs = [x], []
for layer in model.layers:
    out = layer(acts[-1])
    zs.append([a.children[0] for a in out])   # the pre-activation node of each neuron
    acts.append(out)
aL = acts[-1]
C = 0.5 * sum((float(yj) - aj) ** 2 for yj, aj in zip(y, aL))
C.backward()
print(f"C = {C.data:.6f},  parameters: {len(model.parameters())}")
assert all(z.op == "linear" for zl in zs for z in zl)

# %% [markdown]
# The weights as matrices (row $j$ = the weights *into* neuron $j$, as in the notes) and the
# forward values as numpy arrays; from here on the equations are plain linear algebra.

# %%
W = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
bvec = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
a_np = [np.array(x)]
z_np = []
for Wl, bl in zip(W, bvec):
    z_np.append(Wl @ a_np[-1] + bl)
    a_np.append(sig(z_np[-1]))
assert np.allclose(a_np[-1], [a.data for a in aL], **TOL)   # numpy forward = graph forward

# BP1: output error;  ∂C/∂a^L = a^L − y for C = ½‖y − a^L‖²
delta = [None] * len(W)
delta[-1] = (a_np[-1] - y) * dsig(z_np[-1])
# BP2: walk the error backwards through the transposed weights
for l in range(len(W) - 2, -1, -1):
    delta[l] = (W[l + 1].T @ delta[l + 1]) * dsig(z_np[l])

for l, layer in enumerate(model.layers):
    graph_delta = np.array([z.grad for z in zs[l]])
    graph_db = np.array([n.b.grad for n in layer.neurons])
    graph_dW = np.array([[w.grad for w in n.w] for n in layer.neurons])
    assert np.allclose(graph_delta, delta[l], **TOL)                  # δ = ∂C/∂z   (BP1 / BP2)
    assert np.allclose(graph_db, delta[l], **TOL)                     # BP3
    assert np.allclose(graph_dW, np.outer(delta[l], a_np[l]), **TOL)  # BP4
    print(f"layer {l}: δ = {np.array2string(delta[l], precision=5)}  (graph agrees)")

# %% [markdown]
# All four equations hold for every parameter of the network. Note what BP2 says about the
# graph: neuron $j$ of layer $l$ feeds *every* neuron $k$ of layer $l+1$, so its error is a
# sum over those paths, $\sum_k w_{kj}\delta_k$ — exactly the accumulation at a shared node we
# saw with $f_2$ in lesson 1. The transposed matrix is nothing but "follow the edges backwards".
#
# ## The dense-layer gradient
#
# The first set of notes states the same result for one dense layer in matrix form. With
# $\bar{\mathbf h} = W\mathbf x + \mathbf b$, $\mathbf h = f(\bar{\mathbf h})$ and
# $\boldsymbol\Delta = \partial C/\partial\mathbf h$ the gradient arriving from above:
#
# $$\delta\bar{\mathbf h} = f'(\bar{\mathbf h})\odot\boldsymbol\Delta,\qquad
#   \delta W = \big[f'(\bar{\mathbf h})\odot\boldsymbol\Delta\big]\mathbf x^{\!\top},\qquad
#   \delta\mathbf b = f'(\bar{\mathbf h})\odot\boldsymbol\Delta,\qquad
#   \delta\mathbf x = W^{\!\top}\big[f'(\bar{\mathbf h})\odot\boldsymbol\Delta\big]$$
#
# (eqs. 7–12; the notes' $\delta\mathbf x = W^*[\dots]$ is the transpose). To hand the layer
# an arbitrary $\boldsymbol\Delta$ we use the cost $C = \sum_i \Delta_i h_i$, whose gradient
# with respect to $\mathbf h$ is exactly $\boldsymbol\Delta$. The layer is `tanh`, so
# $f' = 1-\tanh^2$; the inputs are Values too, so we also get $\delta\mathbf x$.

# %%
rng = np.random.default_rng(1)
layer = Layer(5, 3, activation="tanh", seed=2)
xv = [Value(v) for v in rng.normal(size=5)]
Delta = rng.normal(size=3)
h = layer(xv)
C = sum(float(d) * hi for d, hi in zip(Delta, h))
C.backward()

Wd = np.array([[w.data for w in n.w] for n in layer.neurons])
bd = np.array([n.b.data for n in layer.neurons])
xd = np.array([v.data for v in xv])
hbar = Wd @ xd + bd
dhbar = (1 - np.tanh(hbar) ** 2) * Delta
assert np.allclose([[w.grad for w in n.w] for n in layer.neurons], np.outer(dhbar, xd), **TOL)  # δW
assert np.allclose([n.b.grad for n in layer.neurons], dhbar, **TOL)                              # δb
assert np.allclose([v.grad for v in xv], Wd.T @ dhbar, **TOL)                                    # δx
print("δx (graph) =", np.array2string(np.array([v.grad for v in xv]), precision=5))
print("Wᵀ[f'(h̄)⊙Δ] =", np.array2string(Wd.T @ dhbar, precision=5))

# %% [markdown]
# Here is what the graph looks like for a smaller layer (2 inputs, 2 neurons): each neuron is
# one `linear` node with its weights, bias and the inputs as children, then `tanh`.

# %%
small = Layer(2, 2, activation="tanh", seed=3)
xin = [Value(0.5, "x0"), Value(-1.0, "x1")]
C_small = sum(w * hi for w, hi in zip((1.0, -2.0), small(xin)))
C_small.backward()
draw(C_small)

# %% [markdown]
# ## Sigmoid output with cross-entropy: $\partial C/\partial b = \sigma(o) - y$
#
# With a sigmoid output $a = \sigma(o)$, $o = \mathbf w\cdot\mathbf x + b$, and the quadratic
# cost, BP1 gives $\delta = (a-y)\,\sigma'(o)$: when the output saturates at the *wrong*
# answer, $\sigma'(o)\approx 0$ and learning stalls. The cross-entropy cost
#
# $$C = -\big[y\ln a + (1-y)\ln(1-a)\big]$$
#
# has $\partial C/\partial a = \dfrac{a-y}{a(1-a)}$, which cancels $\sigma'(o) = a(1-a)$
# exactly, leaving the notes' $\partial C/\partial \mathbf b = \sigma(\mathbf o) - \mathbf y$.
# We write the cost literally, with `log` of the sigmoid, and let the graph find the
# cancellation.

# %%
def output_neuron(o_target, y):
    """A sigmoid output neuron whose pre-activation is `o_target`; returns (b, CE, MSE)."""
    w = [Value(0.3), Value(-0.7)]
    inputs = [1.0, 2.0]
    b = Value(o_target - (0.3 * 1.0 - 0.7 * 2.0))
    o = w[0] * inputs[0] + w[1] * inputs[1] + b
    s = o.sigmoid()
    ce = -(y * s.log() + (1 - y) * (1 - s).log())
    mse = 0.5 * (s - y) ** 2
    return b, o, ce, mse


for o_val, y_val in [(-2.0, 1.0), (0.3, 0.0), (4.0, 1.0)]:
    b, o, ce, mse = output_neuron(o_val, y_val)
    g_ce, = grad(ce, [b])
    g_mse, = grad(mse, [b])
    s = 1 / (1 + math.exp(-o.data))
    print(f"o = {o.data:+.1f}, y = {y_val:.0f}:  ∂CE/∂b = {g_ce.data:+.6f}  σ(o)−y = {s - y_val:+.6f}"
          f"   ∂MSE/∂b = {g_mse.data:+.6f}")
    assert math.isclose(g_ce.data, s - y_val, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(g_mse.data, (s - y_val) * s * (1 - s), rel_tol=1e-12, abs_tol=1e-15)
    # nn's stable binary cross-entropy (softplus(o) − y·o) has the same gradient
    g_nn, = grad(nn.binary_cross_entropy(o, y_val), [b])
    assert math.isclose(g_nn.data, s - y_val, rel_tol=1e-12, abs_tol=1e-15)

# %%
os_ = np.linspace(-8, 8, 161)
b_ce, b_mse = [], []
for v in os_:
    b, o, ce, mse = output_neuron(float(v), 1.0)
    b_ce.append(grad(ce, [b])[0].data)
    b_mse.append(grad(mse, [b])[0].data)
assert abs(b_mse[0]) < 1e-3 < 0.99 < abs(b_ce[0])   # very wrong at o = −8: MSE stalls, CE does not

fig, ax = plt.subplots(figsize=(5, 2.8))
ax.plot(os_, b_ce, label="cross-entropy: σ(o) − y")
ax.plot(os_, b_mse, label="quadratic: (σ(o) − y) σ′(o)")
ax.set_xlabel("pre-activation o (target y = 1)"); ax.set_ylabel("∂C/∂b (from the graph)")
ax.legend(fontsize=7); fig.tight_layout(); plt.show()

# %% [markdown]
# ## Softmax: the notes' version and the usual one
#
# One set of notes defines the softmax output as
#
# $$\text{softmax}_i = \frac{O_i}{\sum_{j=1}^m O_j}\qquad\text{(no exponential)}$$
#
# while the other (and every library) uses $\dfrac{e^{O_i}}{\sum_j e^{O_j}}$. The two are not the
# same function. The normalization without the exponential only behaves like a probability
# when every $O_i$ is positive: a negative output gives a negative "probability", outputs
# summing to zero divide by zero, and it is not invariant to adding a constant to all $O_i$.
# The exponential makes every entry positive, and $e^{O_i + c}/\sum_j e^{O_j+c}$ is the same for
# every $c$, which is also what lets `nn.softmax` subtract the maximum for numerical stability.

# %%
O = [2.0, -1.0, 0.5]
notes_softmax = [o / sum(O) for o in O]
usual = [v.data for v in nn.softmax(O)]
print("notes' O/ΣO   :", np.round(notes_softmax, 4))
print("usual softmax :", np.round(usual, 4))
assert math.isclose(sum(notes_softmax), 1.0) and min(notes_softmax) < 0     # sums to 1, but not a distribution
assert math.isclose(sum(usual), 1.0) and all(0 < p < 1 for p in usual)
shifted = [v.data for v in nn.softmax([o + 100 for o in O])]
assert np.allclose(shifted, usual, rtol=1e-12)                              # shift-invariant
assert not np.allclose([(o + 100) / sum(o + 100 for o in O) for o in O], notes_softmax)

# %% [markdown]
# The Jacobian of the usual softmax is $\partial s_i/\partial O_j = s_i(\delta_{ij} - s_j)$, and
# combined with the cross-entropy $C = -\ln s_t$ for the true class $t$, the gradient with
# respect to the logits collapses to $\mathbf s - \mathbf e_t$ — the multi-class twin of
# $\sigma(o) - y$ above. Both come out of the graph:

# %%
Ov = [Value(o) for o in O]
s = nn.softmax(Ov)
sd = np.array([v.data for v in s])
jac = np.array([[g.data for g in grad(si, Ov)] for si in s])
assert np.allclose(jac, np.diag(sd) - np.outer(sd, sd), rtol=1e-12, atol=1e-15)

t = 2
ce = nn.cross_entropy(Ov, t)
g = np.array([gi.data for gi in grad(ce, Ov)])
assert np.allclose(g, sd - np.eye(3)[t], rtol=1e-12, atol=1e-15)
print("∂C/∂O from the graph:", g.round(6), "  s − e_t:", (sd - np.eye(3)[t]).round(6))
