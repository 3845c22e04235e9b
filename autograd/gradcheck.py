"""Compare analytic gradients with central finite differences.

    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -1.2])
    True
    >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -1.2], modes=("rev", "fwd"))
    True

`"rev"` checks `backward()`, one input at a time. `"fwd"` checks forward mode (`jvp`) as
JAX's `check_grads` does: the directional derivative along a few random unit directions
against the finite difference of `fn` along the same direction.
"""
import math
import random
from numbers import Real

from .backprop import enable_grad, grad
from .errors import GradcheckError
from .forward import floats, jvp
from .value import Value

MODES = ("rev", "fwd")
DIRECTIONS = 3      # random directions per "fwd" check
SHOWN_ROWS = 20     # a failing table shows its worst rows only


def _fd(f, xs, i, eps):
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2 * eps)


def _fd_along(f, xs, v, eps):
    up = [x + eps * t for x, t in zip(xs, v)]
    down = [x - eps * t for x, t in zip(xs, v)]
    return (f(up) - f(down)) / (2 * eps)


def _call_values(fn, values):
    out = fn(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    return out


def _call(fn, xs):
    return _call_values(fn, [Value(x) for x in xs])


def _check_settings(what, eps, atol, rtol):
    """Refuse settings that would make the check meaningless or crash half-way through."""
    for name, x, low in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        if type(x) is bool or not isinstance(x, Real):
            raise TypeError(f"{what}: {name} must be a real number, got {type(x).__name__}: {x!r}")
        if not math.isfinite(x) or (x <= 0 if name == "eps" else x < 0):
            raise ValueError(f"{what}: {name} must be finite and {low}, got {x!r}")


def _check_modes(modes):
    if isinstance(modes, str) or not isinstance(modes, (tuple, list)) or not modes \
            or any(m not in MODES for m in modes):
        raise ValueError(f"gradcheck: modes must be a non-empty tuple of 'rev' and/or 'fwd', "
                         f"got {modes!r}")


def _failures(rows, atol, rtol, title, index):
    """The lines reporting the rows that disagree (worst first, at most SHOWN_ROWS), or []."""
    bad = [r for r in rows if not abs(r[-2] - r[-1]) <= atol + rtol * abs(r[-1])]
    if not bad:
        return []
    error = lambda r: abs(r[-2] - r[-1])
    bad.sort(key=lambda r: (math.isnan(error(r)), error(r)), reverse=True)  # nan first
    shown = bad[:SHOWN_ROWS]
    more = f"; the worst {len(shown)} shown" if len(bad) > len(shown) else ""
    lines = [f"{title}: {len(bad)} of {len(rows)} entries disagree "
             f"(atol={atol:g}, rtol={rtol:g}){more}",
             f"{index:>10} {'analytic':>16} {'numeric':>16} {'error':>12}"]
    for r in shown:
        idx = ",".join(map(str, r[:-2]))
        lines.append(f"{idx:>10} {r[-2]:>16.9g} {r[-1]:>16.9g} {error(r):>12.3g}")
    return lines


def _report(sections):
    lines = [line for section in sections for line in section]
    if lines:
        raise GradcheckError("\n".join(lines))
    return True


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, modes=("rev",)):
    """Check the derivatives of `fn(*values)` at `inputs` against central differences.

    Returns True, or raises GradcheckError whose message lists the rows that disagree
    (input index or direction, analytic, numeric, error), worst first, at most 20, under
    a summary line. `modes`: "rev" checks `backward()` input by input; "fwd" checks forward
    mode along 3 random unit directions (fixed seed, so a failure repeats).

        >>> gradcheck(lambda x: x.exp(), [1.0], eps=0)
        Traceback (most recent call last):
        ...
        ValueError: gradcheck: eps must be finite and > 0, got 0
    """
    _check_settings("gradcheck", eps, atol, rtol)
    _check_modes(modes)
    xs = floats(inputs, "gradcheck")
    with enable_grad():  # inside a no_grad() block there would be no graph to check
        f = lambda p: _call(fn, p).data
        sections = []
        if "rev" in modes:
            values = [Value(x) for x in xs]
            _call_values(fn, values).backward()
            rows = [(i, v.grad, _fd(f, xs, i, eps)) for i, v in enumerate(values)]
            sections.append(_failures(rows, atol, rtol, "gradcheck (rev)", "input"))
        if "fwd" in modes:
            rng = random.Random(0)
            rows = []
            for k in range(DIRECTIONS):
                v = [rng.gauss(0.0, 1.0) for _ in xs]
                norm = math.sqrt(sum(t * t for t in v)) or 1.0
                v = [t / norm for t in v]
                _, analytic = jvp(lambda *vals: _call_values(fn, vals), xs, v)
                rows.append((k, analytic, _fd_along(f, xs, v, eps)))
            sections.append(_failures(rows, atol, rtol, "gradcheck (fwd)", "direction"))
    return _report(sections)


def gradgradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check second derivatives: the Hessian from grad(grad(..., create_graph=True))
    against central differences of the analytic first derivatives."""
    _check_settings("gradgradcheck", eps, atol, rtol)
    xs = floats(inputs, "gradgradcheck")
    with enable_grad():
        return _gradgradcheck(fn, xs, eps, atol, rtol)


def _gradgradcheck(fn, xs, eps, atol, rtol):
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
    return _report([_failures(rows, atol, rtol, "gradgradcheck", "input")])
