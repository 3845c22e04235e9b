"""backward(): topological order, accumulation like PyTorch, and depth without recursion."""
import math
import sys

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant,
                                 multiple, precondition, rule)

from autograd import Value, grad, no_grad
from autograd.backprop import topo_order
from autograd.testing import Expression, expressions


def test_shared_subexpression_gets_every_contribution():
    a = Value(3.0)
    b = a + a          # one node used twice by c
    c = b * b
    c.backward()
    assert (c.data, b.grad, a.grad) == (36.0, 12.0, 24.0)  # dc/da = 8a


def test_backward_with_gradient_scales_everything():
    x = Value(2.0)
    y = (x * x).tanh()
    y.backward(gradient=-0.5)
    assert y.grad == -0.5
    assert x.grad == pytest.approx(-0.5 * (1 - math.tanh(4.0) ** 2) * 4.0)


def test_backward_on_a_leaf_adds_the_gradient():
    x = Value(2.0)
    x.backward()
    x.backward(3)
    assert x.grad == 4.0


def test_topo_order_lists_interior_nodes_root_first_parents_before_children():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    d = c + a
    e = d * c
    order = topo_order(e)
    assert order[0] is e and set(order) == {c, d, e} and len(order) == 3
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for child in n.children:
            if child.op:
                assert pos[n] < pos[child]
    assert topo_order(a) == []


@given(expressions(n_inputs=3, max_ops=15))
def test_topo_order_is_a_deterministic_valid_order(case):
    fn, xs = case
    out1, out2 = fn(*xs), fn(*xs)
    order1, order2 = topo_order(out1), topo_order(out2)
    assert len(order1) == len(set(order1))
    pos = {n: i for i, n in enumerate(order1)}
    for n in order1:
        assert n.op  # no leaves
        for child in n.children:
            assert (child.op == "") or pos[n] < pos[child]
    # two identical graphs are ordered identically, node for node
    assert [n.op for n in order1] == [n.op for n in order2]
    assert [n.data for n in order1] == [n.data for n in order2]
    # every interior node reachable from the root is listed
    reach, stack = set(), [out1]
    while stack:
        n = stack.pop()
        if n.op and n not in reach:
            reach.add(n)
            stack.extend(n.children)
    assert reach == set(order1)


def test_million_node_chain_under_default_recursion_limit():
    limit = sys.getrecursionlimit()
    a, c, steps = 1.0000001, 1e-9, 500_000   # two nodes per step
    x = Value(0.5)
    y = x
    for _ in range(steps):
        y = y * a + c
    assert len(topo_order(y)) == 2 * steps
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == pytest.approx(a ** steps, rel=1e-9)
    assert y.data == pytest.approx(0.5 * a ** steps + c * (a ** steps - 1) / (a - 1), rel=1e-9)
    g, = grad(y, [x])
    assert g.data == x.grad
    del y  # freeing a million-deep chain must not recurse either


def test_backward_twice_doubles_interior_grads_exactly_and_leaf_grads_to_rounding():
    x, w = Value(0.7), Value(-1.3)
    h = (x * w).tanh()
    out = h * h + h.sigmoid() * x
    out.backward()
    first = [v.grad for v in (x, w, h, out)]
    out.backward()
    assert [v.grad for v in (h, out)] == [2 * g for g in first[2:]]
    assert [v.grad for v in (x, w)] == pytest.approx([2 * g for g in first[:2]], rel=1e-15)


def test_backward_twice_doubles_a_leaf_with_two_consumers_to_rounding():
    # x's contributions 1.0 and tanh'(x) are added onto the old grad one at a time (a leaf
    # is not set aside: that would cost a scan of every leaf edge), so the result may differ
    # from 2 * once in the last bit, never more.
    x = Value(0.25)
    s = x.tanh() + x
    s.backward()
    once = x.grad
    s.backward()
    assert x.grad == pytest.approx(2 * once, rel=1e-15)


@given(expressions(n_inputs=3, max_ops=12))
def test_backward_twice_doubles_every_grad(case):
    fn, xs = case
    vals = [Value(x) for x in xs]
    out = fn(*vals)
    interior = topo_order(out)
    out.backward()
    once_leaves, once_interior = [v.grad for v in vals], [v.grad for v in interior]
    out.backward()
    assert [v.grad for v in interior] == [2 * g for g in once_interior]
    assert [v.grad for v in vals] == pytest.approx([2 * g for g in once_leaves], rel=1e-12, abs=1e-300)


# -- state machine: backward, resets and accumulation against an independent reference ---
SAFE_UNARY = ("tanh", "sigmoid", "neg", "softplus", "erf", "gelu")


class Accumulation(RuleBasedStateMachine):
    """Nodes are built by rules; `expected[node]` is what PyTorch semantics say its .grad
    must be: the sum, over backward calls since it was last zeroed, of gradient × ∂root/∂node.
    ∂root/∂leaf comes from forward-mode differentiation on floats (`Expression.gradient`,
    independent of the engine); ∂root/∂interior from `grad()`."""
    nodes = Bundle("nodes")

    def __init__(self):
        super().__init__()
        self.all = []          # every Value, in creation order
        self.recipe = {}       # Value -> None (leaf) or (op, operand Values and constants)
        self.expected = {}

    def _add(self, v, recipe):
        self.all.append(v)
        self.recipe[v] = recipe
        self.expected[v] = 0.0
        return v

    @initialize(target=nodes, xs=st.lists(st.floats(-2, 2), min_size=1, max_size=3))
    def leaves(self, xs):
        return multiple(*(self._add(Value(x), None) for x in xs))

    @rule(target=nodes, x=st.floats(-2, 2))
    def leaf(self, x):
        return self._add(Value(x), None)

    @rule(target=nodes, a=nodes, op=st.sampled_from(SAFE_UNARY))
    def unary(self, a, op):
        v = -a if op == "neg" else getattr(a, op)()
        return self._add(v, (op, a))

    @rule(target=nodes, a=nodes, b=nodes, op=st.sampled_from(("+", "-", "*")))
    def binary(self, a, b, op):
        if op == "*" and abs(a.data * b.data) > 1e3:
            op = "+"
        v = {"+": a + b, "-": a - b}[op] if op != "*" else a * b
        return self._add(v, (op, a, b))

    @rule(target=nodes, a=nodes, c=st.sampled_from((0.5, -2.0, 3.0)))
    def times_constant(self, a, c):
        return self._add(c * a, ("*", c, a))

    def _leaf_gradient(self, root):
        """∂root/∂leaf for every leaf, by replaying root's recipe as an Expression."""
        leaves = [v for v in self.all if self.recipe[v] is None]
        slot = {v: i for i, v in enumerate(leaves)}
        program = []
        for v in self.all:  # creation order is a topological order
            r = self.recipe[v]
            if r is not None:
                args = tuple(slot[a] if isinstance(a, Value) else a for a in r[1:])
                program.append((r[0], args))
                slot[v] = len(leaves) + len(program) - 1
            if v is root:
                break
        if self.recipe[root] is None:  # a leaf root: d root / d leaf is 1 for itself
            return {v: float(v is root) for v in leaves}
        expr = Expression(len(leaves), program)
        g = expr.gradient([v.data for v in leaves])
        assert expr.evaluate([v.data for v in leaves]) == pytest.approx(root.data, rel=1e-12)
        return dict(zip(leaves, g))

    @rule(root=nodes, g=st.sampled_from((1.0, 0.5, -2.0)))
    def backward(self, root, g):
        leaf_grads = self._leaf_gradient(root)
        interior = [v for v in self.all if self.recipe[v] is not None]
        for v, d in zip(interior, grad(root, interior)):
            self.expected[v] += g * d.data
        for v, d in leaf_grads.items():
            self.expected[v] += g * d
        root.backward(g)

    @rule(root=nodes)
    def backward_twice_from_zero_doubles(self, root):
        for v in self.all:
            v.grad = 0.0
        root.backward()
        once = [v.grad for v in self.all]
        root.backward()
        for v, g in zip(self.all, once):
            if self.recipe[v] is None:  # leaves: to rounding
                assert v.grad == pytest.approx(2 * g, rel=1e-12, abs=1e-300)
            else:                       # interior nodes: exactly
                assert v.grad == 2 * g
        for v in self.all:
            v.grad = 0.0
            self.expected[v] = 0.0

    @rule()
    def zero_everything(self):
        for v in self.all:
            v.grad = 0.0
            self.expected[v] = 0.0

    @rule()
    def zero_leaves_only(self):  # what an optimizer's zero_grad does
        for v in self.all:
            if self.recipe[v] is None:
                v.grad = 0.0
                self.expected[v] = 0.0

    @precondition(lambda self: self.all)
    @rule(data=st.data())
    def no_grad_builds_nothing(self, data):
        a = data.draw(st.sampled_from(self.all))
        with no_grad():
            v = (a * 2).tanh() + a
        assert v.op == "" and v.children == ()

    @invariant()
    def grads_match_reference(self):
        for v in self.all:
            assert v.grad == pytest.approx(self.expected[v], rel=1e-9, abs=1e-12), v


Accumulation.TestCase.settings = settings(stateful_step_count=30)
TestAccumulation = Accumulation.TestCase
