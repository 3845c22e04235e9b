# %% [markdown]
# # 1. A neuron is a function; a network is a composition
#
# The lecture notes start from biology (a neuron collects inputs on its dendrites and fires
# along its axon when excited enough) and quickly abstract it away: a neuron is a *real-valued
# function* of its inputs, parametrized by a weight per input and a bias,
#
# $$f(\mathbf x) = \sigma\Big(\sum_{i=1}^n w_i x_i + b\Big), \qquad \sigma(z) = \frac{1}{1+e^{-z}} \qquad\text{(notes, eqs. 4–5)}$$
#
# Positive weights are excitatory, negative ones inhibitory, and the bias is a threshold.
#
# In this notebook every number is a `Value` from the `autograd` engine. Each arithmetic
# operation on Values records a node in a graph, and `backward()` walks that graph backwards
# applying the chain rule. Nothing below uses a hand-written derivative except to *check* the
# graph: every claim is an `assert`.

# %%
import math
import random

from autograd import Value, draw, gradcheck, linear
from autograd.backprop import topo_order

random.seed(0)


def sigma(z):
    """The logistic function on plain floats, written from the notes (for checking only)."""
    return 1.0 / (1.0 + math.exp(-z))


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))

# %% [markdown]
# ## One neuron
#
# Three inputs, three weights, a bias. We write the weighted sum exactly as the formula reads
# and ask the output for its gradient.

# %%
x = [Value(0.5, "x1"), Value(-1.5, "x2"), Value(2.0, "x3")]
w = [Value(0.8, "w1"), Value(-0.4, "w2"), Value(0.3, "w3")]
b = Value(-0.2, "b")

z = b + w[0] * x[0] + w[1] * x[1] + w[2] * x[2]   # micrograd's order: sum(w*x, start=b)
z.label = "z"
a = z.sigmoid()
a.label = "a"
a.backward()

print(f"z = {z.data:.6f}   a = σ(z) = {a.data:.6f}")
for v in w + [b] + x:
    print(f"∂a/∂{v.label:<3}= {v.grad:+.6f}")
draw(a)

# %% [markdown]
# By hand: $\partial a/\partial z = \sigma'(z) = \sigma(z)\,(1-\sigma(z))$, and since $z$ is
# linear in each parameter, $\partial z/\partial w_i = x_i$, $\partial z/\partial b = 1$,
# $\partial z/\partial x_i = w_i$. The chain rule multiplies them. The graph agrees to the last
# few bits:

# %%
s = sigma(sum(wi.data * xi.data for wi, xi in zip(w, x)) + b.data)
assert close(a.data, s)
ds = s * (1 - s)
for wi, xi in zip(w, x):
    assert close(wi.grad, ds * xi.data)   # ∂a/∂wᵢ = σ'(z)·xᵢ
    assert close(xi.grad, ds * wi.data)   # ∂a/∂xᵢ = σ'(z)·wᵢ
assert close(b.grad, ds)                  # ∂a/∂b  = σ'(z)
assert close(z.grad, ds)                  # backward also fills interior nodes
print("all neuron gradients match σ'(z)·(∂z/∂·)")

# %% [markdown]
# Written this way the weighted sum is a little chain of `*` and `+` nodes (that is how
# micrograd builds it). The engine can also compute $\sum_i w_i x_i + b$ as **one** node
# with $2n+1$ children, whose local derivatives are simply $x_i$ (for $w_i$), $w_i$ (for $x_i$)
# and $1$ (for $b$). It is the same function — the numbers are bit-for-bit identical — with far
# fewer nodes, which is what makes the 13,002-parameter network of lesson 6 affordable.
# (Bit-for-bit because it adds in the same order, starting from $b$; floating-point addition
# is not associative, so another order could differ in the last bit.)

# %%
for v in w + x + [b]:
    v.grad = 0.0
z_fused = linear(w, x, b)
a_fused = z_fused.sigmoid()
a_fused.backward()

print("nodes in the unfused graph:", len(topo_order(a)), "  fused:", len(topo_order(a_fused)))
print("children of the fused node:", [c.label for c in z_fused.children])
print("their local derivatives   :", [round(g, 3) for g in z_fused.local_grads])
assert z_fused.data == z.data and a_fused.data == a.data      # identical, not just close
assert z_fused.local_grads == tuple(v.data for v in x) + tuple(v.data for v in w) + (1.0,)
for wi, xi in zip(w, x):
    assert close(wi.grad, ds * xi.data) and close(xi.grad, ds * wi.data)

# %% [markdown]
# ## The Boolean view
#
# The notes recall the oldest abstraction: a neuron as a logic gate
# $f:\{0,1\}^n\to\{0,1\}$. A sigmoid neuron with large weights is a *soft* gate: with
# $w=(20, 20)$ and $b=-30$ it is an AND, with $b=-10$ an OR. Unlike a hard threshold, the soft
# version has a gradient everywhere, which is what learning needs.

# %%
def neuron(ws, bias, inputs):
    return linear([Value(v) for v in ws], inputs, Value(bias)).sigmoid()


print(" x1 x2 | AND     OR")
for x1 in (0, 1):
    for x2 in (0, 1):
        g_and = neuron([20, 20], -30, [x1, x2]).data
        g_or = neuron([20, 20], -10, [x1, x2]).data
        print(f"  {x1}  {x2} | {g_and:.5f} {g_or:.5f}")
        assert round(g_and) == (x1 and x2) and round(g_or) == (x1 or x2)

# %% [markdown]
# ## Composition: the DAG of eq. (6)
#
# The notes' second idea: build complicated functions by nesting simple ones, along a
# *directed acyclic graph*. Their example is
#
# $$g(x_1,x_2,x_3) = f_5\big(f_4(f_1(x_1), f_2(x_2)),\; f_2(x_2),\; f_3(x_3)\big). \qquad\text{(6)}$$
#
# The point to notice: $f_2(x_2)$ feeds **two** later nodes, $f_4$ and $f_5$. In a tree it
# would be computed twice; in a DAG it is one node with two outgoing edges. We pick concrete
# functions (any would do):
#
# | node | function |
# |---|---|
# | $f_1(x_1)$ | $\tanh x_1$ |
# | $f_2(x_2)$ | $x_2^2$ |
# | $f_3(x_3)$ | $\sigma(x_3)$ |
# | $f_4(u, v)$ | $u\,v$ |
# | $f_5(p, v, r)$ | $p + v\,r$ |

# %%
def g(x1, x2, x3):
    h1 = x1.tanh();  h1.label = "f1"
    h2 = x2 ** 2;    h2.label = "f2"   # the shared node
    h3 = x3.sigmoid(); h3.label = "f3"
    h4 = h1 * h2;    h4.label = "f4"
    vr = h2 * h3;    vr.label = "f2·f3"  # f5 is this product plus f4
    out = h4 + vr;   out.label = "g = f5"
    return out, (h1, h2, h3, h4)


x1, x2, x3 = Value(0.7, "x1"), Value(-1.2, "x2"), Value(0.4, "x3")
out, (f1, f2, f3, f4) = g(x1, x2, x3)
out.backward()
print(f"g = {out.data:.6f}")
print("nodes that use f2:", [n.label or n.op for n in topo_order(out) if f2 in n.children])
draw(out)

# %% [markdown]
# The gradient arriving at $f_2$ is the **sum over the paths** from $f_2$ to the output:
#
# * through $f_4$: $\;\frac{\partial g}{\partial f_4}\frac{\partial f_4}{\partial f_2} = 1\cdot f_1$
# * directly into $f_5$: $\;\frac{\partial g}{\partial f_2}\big|_{f_5} = f_3$
#
# so $\partial g/\partial f_2 = f_1 + f_3$, and then $\partial g/\partial x_2 = 2x_2\,(f_1+f_3)$.
# Backward gets this because it *accumulates* (`child.grad += local * node.grad`) and
# visits $f_2$ only after both of its users are done.

# %%
path_via_f4 = 1.0 * f1.data
path_direct = f3.data
print(f"∂g/∂f2 from the graph: {f2.grad:.12f}")
print(f"path via f4 + direct : {path_via_f4:.12f} + {path_direct:.12f} = {path_via_f4 + path_direct:.12f}")
assert close(f2.grad, path_via_f4 + path_direct)
assert close(x2.grad, 2 * x2.data * (f1.data + f3.data))
assert close(x1.grad, (1 - math.tanh(x1.data) ** 2) * f2.data)
assert close(x3.grad, f2.data * sigma(x3.data) * (1 - sigma(x3.data)))
assert gradcheck(lambda a, b, c: g(a, b, c)[0], [0.7, -1.2, 0.4])  # and finite differences agree

# %% [markdown]
# Had backward *overwritten* instead of adding, $f_2$ would keep whichever path arrived last
# and $\partial g/\partial x_2$ would be wrong. The same accumulation is why, in a network,
# a hidden neuron that feeds every neuron of the next layer receives the sum of all their
# error signals (lesson 4, BP2).
#
# The graph also lets us read off the order in which backward visits the nodes: each node
# comes before its children, the output first.

# %%
order = topo_order(out)
print(" -> ".join(n.label or n.op for n in order))
pos = {n: i for i, n in enumerate(order)}
assert order[0] is out
assert all(pos[n] < pos[c] for n in order for c in n.children if c in pos)

# %% [markdown]
# ## Layers: composition of maps
#
# Arranging neurons in densely connected layers gives the multi-layer perceptron. With
# $m^l$ units in layer $l$, the transfer map is $F^l = \sigma^l\circ\bar F^l$,
# $\bar F^l(\mathbf x) = W^l\mathbf x + \mathbf b^l$ (eq. 7), and the network is
# $F = F^L\circ\dots\circ F^1$ (eq. 8). Below, a layer is literally a Python function and the
# network is their composition.
#
# Counting parameters: layer $l$ has $m^l m^{l-1}$ weights and $m^l$ biases. For the
# 784-16-16-10 digit network of the notes that is $13{,}002$.

# %%
def dense(n_in, n_out, act):
    W = [[Value(random.uniform(-1, 1)) for _ in range(n_in)] for _ in range(n_out)]
    bias = [Value(0.0) for _ in range(n_out)]
    params = [p for row, bj in zip(W, bias) for p in row + [bj]]

    def F(xs):
        return [getattr(linear(row, xs, bj), act)() for row, bj in zip(W, bias)]
    return F, params


def compose(*maps):
    def F(xs):
        for f in maps:
            xs = f(xs)
        return xs
    return F


F1, p1 = dense(3, 4, "tanh")
F2, p2 = dense(4, 2, "sigmoid")
F = compose(F1, F2)
y = F([0.5, -1.5, 2.0])
assert [v.data for v in y] == [v.data for v in F2(F1([0.5, -1.5, 2.0]))]
print("F(x) =", [round(v.data, 4) for v in y], " parameters:", len(p1 + p2))

sizes = [784, 16, 16, 10]
count = sum(len(dense(m0, m1, "sigmoid")[1]) for m0, m1 in zip(sizes, sizes[1:]))
print("784-16-16-10 parameters:", count)
assert count == sum(m1 * (m0 + 1) for m0, m1 in zip(sizes, sizes[1:])) == 13_002

# %% [markdown]
# Next: the activation functions that can stand in for $\sigma$, and what their derivatives
# do to the gradient signal (lesson 2).
