"""Errors raised by the engine. Each message names the op and the operand that broke it."""


class DomainError(ValueError, ArithmeticError):
    """An operand outside an op's domain: `log(-1)`, `(-8) ** 0.5`, ...

    Catch it as `DomainError`, `ValueError` or `ArithmeticError`.
    """


class DivisionByZero(DomainError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class Overflow(DomainError, OverflowError):
    """A number that cannot become a float at all: `Value(10**400)`, `x + 10**400`.

    A result too large for a float is not an error but ±inf, as in IEEE arithmetic and
    PyTorch (`exp(1000)`, `10.0 ** 400`); see `autograd.ops`.
    """


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message is a table of both."""
