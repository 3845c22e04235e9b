"""Watching a network learn: a live view for Jupyter and a standalone replay page.

    >>> from nn.live import LiveView, Recorder
    >>> view = for_fit(False)          # fit(live=False): nothing to drive
    >>> view is None
    True

`Recorder(path)` records frames of a run through four callbacks and writes the replay page
at the end; `LiveView(path=None)` is a Recorder that also shows the run in Jupyter, updated
in place. `for_fit(live)` turns `fit`'s `live=` argument into the object to drive.
"""
import os

from ..train import CALLBACKS
from .recorder import Recorder
from .replay import write_replay
from .view import LiveView, in_notebook

__all__ = ["LiveView", "Recorder", "write_replay", "for_fit", "in_notebook"]


def for_fit(live, loss=None):
    """What `fit(live=...)` drives: None for False or None; a LiveView for True (shown in
    Jupyter, nothing elsewhere) or for a path (shown in Jupyter, and the replay page written
    there at the end); any object with the four callbacks, as it is. `loss` is fit's
    one-sample loss, for the view's own evaluations."""
    if live is None or live is False:
        return None
    if live is True:
        return LiveView(loss=loss)
    if isinstance(live, (str, os.PathLike)):
        return LiveView(os.fspath(live), loss=loss)
    if all(callable(getattr(live, name, None)) for name in CALLBACKS):
        return live
    raise TypeError(f"live must be True, False, a path for the replay page, or an object with "
                    f"{', '.join(CALLBACKS)}; got {type(live).__name__}: {live!r}")
