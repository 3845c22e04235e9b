"""The live view's and replay page's own files (HTML, CSS, JavaScript), read as package data."""
from importlib import resources


def read_asset(name):
    """The text of `nn/live/<name>`, e.g. `replay.js`."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
