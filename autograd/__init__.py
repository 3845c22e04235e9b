"""chainrule's scalar autograd engine.

    >>> from autograd import Value
    >>> x = Value(2.0); y = x * x + x.tanh(); y.backward(); x.grad
    4.07065082485...
"""
from .anomaly import AnomalyError, detect_anomaly
from .backprop import backward, enable_grad, grad, no_grad, topo_order
from .crosscheck import crosscheck  # imports torch only when called
from .custom import define_op
from .errors import DivisionByZero, DomainError, GradcheckError, Overflow
from .forward import hessian, jacobian, jvp
from .gradcheck import gradcheck, gradgradcheck
from .trace import trace
from .value import Value, is_grad_enabled, linear, linear_layer, set_grad_enabled

__all__ = [
    "Value", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "define_op", "draw", "step_through",
    "linear", "linear_layer", "backward", "topo_order", "DomainError", "DivisionByZero",
    "Overflow", "jvp", "jacobian", "hessian", "detect_anomaly", "AnomalyError", "crosscheck",
    "trace",
]


def __getattr__(name):
    # Rendering pulls in graphviz; load it only when asked for.
    if name == "draw":
        from .render import draw
        return draw
    if name == "step_through":
        from .stepper import step_through
        return step_through
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
