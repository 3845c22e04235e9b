"""The live view's and replay page's own files (HTML, CSS, JavaScript), read as package data."""
import functools
import re
from importlib import resources


@functools.cache  # read once a process: the live view fills live.html for every frame it shows
def read_asset(name):
    """The text of `nn/live/<name>`, e.g. `replay.js`."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def fill(name, **parts):
    """The asset `name` with each `$key` of `parts` replaced, in one pass, so nothing put in
    is itself searched for placeholders (and other `$` text, as in JavaScript, stays)."""
    pattern = r"\$(" + "|".join(map(re.escape, parts)) + r")\b"
    return re.sub(pattern, lambda m: parts[m.group(1)], read_asset(name))
