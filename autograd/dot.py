"""Running Graphviz's `dot` with a time limit, so a drawing never hangs.

    >>> svg, png = run('digraph { a -> b }', ["svg", "png"], timeout=20)

One process lays the graph out once and writes every requested format to stdout, one after
the other; `run` splits them apart again. A layout that takes longer than `timeout` seconds
is killed and reported as a `LayoutTimeout` naming the graph's size and what to do.
"""
import re
import subprocess

import graphviz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class GraphvizNotInstalled(graphviz.ExecutableNotFound):
    """Graphviz's `dot` program is missing, so a graph can be described but not rendered.

    A subclass of graphviz.ExecutableNotFound (and so of RuntimeError): code that already
    catches either keeps working.
    """

    def __init__(self):
        RuntimeError.__init__(
            self,
            "cannot render the graph: Graphviz's `dot` program is not on PATH. Install Graphviz "
            "(Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: `brew install graphviz`; "
            "others: https://graphviz.org/download/). The DOT text is still available as `.source`.")


class LayoutTimeout(RuntimeError):
    """Graphviz did not finish laying out a graph within the time limit (and was stopped)."""


class LayoutError(graphviz.CalledProcessError, RuntimeError):
    """Graphviz exited with an error; the message holds what it printed. A
    graphviz.CalledProcessError, as the graphviz package raises, and a RuntimeError."""

    def __init__(self, message, returncode=1, cmd=("dot",)):
        super().__init__(returncode, list(cmd))
        self.message = message

    def __str__(self):
        return self.message


def size_of(source):
    """(nodes, edges) declared in DOT text, counted from its statement lines."""
    edges = len(re.findall(r"^\s*\S+ -> \S+", source, re.M))
    nodes = len(re.findall(r"^\s*[\w\"]+ \[", source, re.M)) - len(re.findall(r"^\s*(?:graph|node|edge) \[", source, re.M))
    return nodes, edges


def run(source, formats, *, timeout=20.0, engine="dot", what=None):
    """Lay out DOT `source` once and return the bytes of each format in `formats` (a list
    such as ["svg", "png"]); formats other than the last must be text formats (svg, dot,
    ...) or png. `what` describes the graph in a timeout's message (default: its node and
    edge count). Raises GraphvizNotInstalled, LayoutTimeout or LayoutError."""
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    cmd = [engine] + [f"-T{f}" for f in formats]
    try:
        done = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise GraphvizNotInstalled() from None
    except subprocess.TimeoutExpired:  # subprocess.run has killed and reaped it
        if what is None:
            what = "{} boxes, {} edges".format(*size_of(source))
        raise LayoutTimeout(
            f"Graphviz could not lay out this graph ({what}) within "
            f"{timeout:g} s and was stopped. Draw less of it: a smaller max_nodes collapses it "
            f"into fewer boxes (draw(root, max_nodes=100)), or draw a sub-expression; or allow "
            f"more time with draw(root, timeout=...).") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip() or "no message"
        raise LayoutError(f"Graphviz `{engine}` failed (exit status {done.returncode}): {said}",
                          done.returncode, cmd)
    return _split(done.stdout, formats)


def _split(out, formats):
    """Cut one stdout holding several outputs back into one bytes per format."""
    if len(formats) == 1:
        return [out]
    parts, rest = [], out
    for i, f in enumerate(formats[:-1]):
        nxt = formats[i + 1].split(":")[0]
        if nxt == "png":
            cut = rest.find(PNG_SIGNATURE)
        elif f.split(":")[0] == "svg":
            end = rest.find(b"</svg>")
            cut = end + len(b"</svg>\n") if end >= 0 else -1
        else:
            raise ValueError(f"cannot split the output of {f!r} from that of {formats[i + 1]!r}")
        if cut <= 0:
            raise LayoutError(f"Graphviz's output for {f!r} is incomplete")
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def png_size(png):
    """(width, height) in pixels, read from a PNG's header."""
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise LayoutError("Graphviz did not return a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
