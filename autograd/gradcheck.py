"""Compare analytic gradients with central finite differences.

    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -1.2])
    True
"""
from .backprop import enable_grad, grad
from .errors import GradcheckError
from .value import Value


def _fd(f, xs, i, eps):
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2 * eps)


def _call_values(fn, values):
    out = fn(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    return out


def _call(fn, xs):
    return _call_values(fn, [Value(x) for x in xs])


def _compare(rows, atol, rtol, title):
    bad = [r for r in rows if not abs(r[-2] - r[-1]) <= atol + rtol * abs(r[-1])]
    if not bad:
        return True
    head = f"{'input':>10} {'analytic':>16} {'numeric':>16} {'error':>12}"
    lines = [f"{title}: {len(bad)} of {len(rows)} entries disagree "
             f"(atol={atol:g}, rtol={rtol:g})", head]
    for r in rows:
        idx = ",".join(map(str, r[:-2]))
        err = abs(r[-2] - r[-1])
        flag = "  <-- mismatch" if r in bad else ""
        lines.append(f"{idx:>10} {r[-2]:>16.9g} {r[-1]:>16.9g} {err:>12.3g}{flag}")
    raise GradcheckError("\n".join(lines))


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check `backward()` of `fn(*values)` against central differences at `inputs`."""
    with enable_grad():  # inside a no_grad() block there would be no graph to check
        return _gradcheck(fn, inputs, eps, atol, rtol)


def _gradcheck(fn, inputs, eps, atol, rtol):
    xs = [float(x) for x in inputs]
    values = [Value(x) for x in xs]
    _call_values(fn, values).backward()
    f = lambda p: _call(fn, p).data
    rows = [(i, v.grad, _fd(f, xs, i, eps)) for i, v in enumerate(values)]
    return _compare(rows, atol, rtol, "gradcheck")


def gradgradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check second derivatives: the Hessian from grad(grad(..., create_graph=True))
    against central differences of the analytic first derivatives."""
    with enable_grad():
        return _gradgradcheck(fn, inputs, eps, atol, rtol)


def _gradgradcheck(fn, inputs, eps, atol, rtol):
    xs = [float(x) for x in inputs]
    values = [Value(x) for x in xs]
    first = grad(_call_values(fn, values), values, create_graph=True)

    def gradient_at(p, i):
        vs = [Value(x) for x in p]
        return grad(_call_values(fn, vs), vs)[i].data

    rows = []
    for i, gi in enumerate(first):
        hess_row = grad(gi, values)
        for j in range(len(xs)):
            numeric = _fd(lambda p: gradient_at(p, i), xs, j, eps)
            rows.append((i, j, hess_row[j].data, numeric))
    return _compare(rows, atol, rtol, "gradgradcheck")
