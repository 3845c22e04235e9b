import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings, strategies as st

from autograd import Value, define_op, gradcheck, ops
from autograd.crosscheck import Crosscheck, _torch_ops, crosscheck
from autograd.testing import expressions


def test_every_op_in_the_table_has_a_torch_twin():
    assert list(_torch_ops(torch)) == list(ops.OPS)


@settings(max_examples=150, deadline=None)
@given(expressions(n_inputs=3, max_ops=12))
def test_agrees_with_pytorch_where_finite_differences_agree(case):
    fn, xs = case
    assert gradcheck(fn, xs)
    report = crosscheck(fn(*xs))
    assert report.ok, str(report)
    assert all(r.problem == "" for r in report.rows)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.sampled_from([True, False]))
def test_linear_nodes_fused_and_unfused(xs, fused):
    from nn import MLP, cross_entropy
    model = MLP(3, [4, 3], activation="tanh", seed=0, fused=fused)
    loss = cross_entropy(model(xs), 1) + cross_entropy(model([Value(x) for x in xs]), 2)
    report = crosscheck(loss)
    assert report.ok, str(report)
    assert ("linear" in {r.op for r in report.rows}) is fused


@pytest.mark.parametrize("build", [
    lambda x: x.relu(), lambda x: abs(x), lambda x: x.leaky_relu(0.1), lambda x: x.elu(0.5),
    lambda x: x ** 0.5, lambda x: x ** 0.0, lambda x: x ** Value(2.0), lambda x: 2.0 ** x,
])
def test_kink_conventions_are_pytorchs(build):
    x = Value(0.0, label="x")
    report = crosscheck(build(x) * 3.0)
    assert report.ok, str(report)


def test_names_the_define_op_with_a_wrong_partial():
    cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
    bad = define_op("bad_hypot", lambda x, y: (x * x + y * y) ** 0.5,
                    lambda x, y, out: x / out,
                    lambda x, y, out: x / out)      # should be y / out
    a, b = Value(0.7, label="a"), Value(-1.2, label="b")
    h = bad(cube(a), b)
    h.label = "h"
    y = h.tanh() * a + b
    report = crosscheck(y, ops=[cube, bad])
    assert not report.ok
    assert report.first.name == "h" and report.first.op == "bad_hypot"
    assert "∂/∂b (operand 1)" in report.first.problem
    assert "node" in report.message and "'h'" in report.message
    # finite differences would have caught it too; crosscheck says where
    with pytest.raises(Exception):
        gradcheck(lambda a, b: bad(cube(a), b).tanh() * a + b, [0.7, -1.2])
    # the same op with the right partial agrees, with a finite-difference torch side
    good = define_op("hypot2", lambda x, y: (x * x + y * y) ** 0.5,
                     lambda x, y, out: x / out, lambda x, y, out: y / out)
    ok = crosscheck(good(cube(a), b).tanh() * a + b, ops=[cube, good])
    assert ok.ok, str(ok)


def test_names_a_builtin_op_with_a_wrong_partial_or_forward(monkeypatch):
    tanh = ops.OPS["tanh"]
    monkeypatch.setattr(tanh, "partials", (lambda x, out: 1.0 - out,))  # not 1 - out²
    a = Value(0.3, label="a")
    t = (a * 2.0).tanh()
    t.label = "t"
    report = crosscheck(t.exp() + a)
    assert report.first.name == "t" and "∂/∂v1 (operand 0)" in report.first.problem
    monkeypatch.undo()

    exp = ops.OPS["exp"]
    monkeypatch.setattr(exp, "forward", lambda x: 2.718 ** x)
    e = (a * 2.0).exp()
    e.label = "e"
    report = crosscheck(e.tanh() + a)
    assert report.first.name == "e" and report.first.problem.startswith("value ")


def test_a_custom_op_not_given_is_an_error_naming_it():
    cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
    with pytest.raises(ValueError, match=r"cannot replay op 'cube'.*ops=\[cube\]"):
        crosscheck(cube(Value(2.0)) + 1.0)
    with pytest.raises(TypeError, match="made by define_op"):
        crosscheck(Value(2.0) * 2, ops=[len])
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        crosscheck(2.0)


def test_grads_are_left_alone_and_values_are_shown():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b + a
    y.label = "y"
    a.grad = 7.0
    report = crosscheck(y)
    assert a.grad == 7.0 and b.grad == 0.0
    rows = {r.name: r for r in report.rows}
    assert (rows["a"].grad, rows["a"].torch_grad) == (-2.0, -2.0)
    assert (rows["b"].grad, rows["b"].torch_grad) == (2.0, 2.0)
    assert (rows["y"].value, rows["y"].torch_value) == (-4.0, -4.0)
    assert [r.name for r in report.rows][-1] == "y"


def test_text_and_html_tables():
    bad = define_op("bad_sq", lambda x: x * x, lambda x, out: x)
    a = Value(1.5, label="a")
    report = crosscheck(bad(a) + a, ops=[bad])
    text = str(report)
    assert text.splitlines()[0] == report.message
    assert "chainrule grad" in text and "bad_sq" in text and "is 1.5, torch 3.0" in text
    html = report._repr_html_()
    assert html.count('<tr class="bad">') == 2  # the op, and the leaf whose grad is off
    assert "bad_sq" in html and "<script" not in html
    assert isinstance(report, Crosscheck) and not report and "MISMATCH" in repr(report)


def test_a_digit_network_loss_and_its_long_table():
    from nn import MLP, cross_entropy
    model = MLP(64, [16, 16, 10], seed=0)
    loss = cross_entropy(model([i / 64 for i in range(64)]), 3)
    report = crosscheck(loss)
    assert report.ok, report.message
    assert len(report.rows) > 1482
    text = report.to_text(max_rows=20)
    assert "rows agree" in text and len(text.splitlines()) < 30


def test_without_torch_it_names_the_extra():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from autograd import Value\n"
            "from autograd.crosscheck import crosscheck\n"
            "try:\n"
            "    crosscheck(Value(1.0) * 2)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("crosscheck needs PyTorch, which is not installed: "
                                  "pip install 'chainrule[torch]'")
