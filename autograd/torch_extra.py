"""PyTorch as an optional extra: imported only by the modules that bridge to it, and only
when one of their functions is called, so the engine itself never needs it."""

EXTRA = "pip install 'chainrule[torch]'"


def require_torch(what):
    """The `torch` module, or an ImportError saying that `what` needs the torch extra."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"{what} needs PyTorch, which is not installed: {EXTRA}") from None
    return torch
