"""Write the lesson notebooks from their sources in `notebooks/src/`, optionally running them.

    .venv/bin/python notebooks/build.py            # src/*.py -> *.ipynb (no outputs)
    .venv/bin/python notebooks/build.py --execute  # ... and run them in place, keeping outputs

Sources are in the "percent" format that VS Code and jupytext understand: `# %%` starts a
code cell, `# %% [markdown]` a markdown cell whose lines are commented with `# `. Editing a
plain .py file keeps diffs readable; the .ipynb files are what people open.
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def parse(text):
    """Cells of a percent-format source, as nbformat cell objects."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cells.append(nbformat.v4.new_code_cell(body))

    for line in text.split("\n"):
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build(src):
    """The notebook for one source file, without outputs. Cell ids are derived from the
    position so rebuilding an unchanged source gives an identical file."""
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(src.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{src.stem[:2]}-{i:03d}"
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(nb, timeout=600):
    """Run `nb` in place from the notebooks directory with the current interpreter's kernel."""
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


def sources():
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--execute", action="store_true", help="run each notebook and keep outputs")
    p.add_argument("only", nargs="*", help="build only sources whose name starts with these")
    args = p.parse_args(argv)
    for src in sources():
        if args.only and not any(src.stem.startswith(o) for o in args.only):
            continue
        nb = build(src)
        out = HERE / (src.stem + ".ipynb")
        if args.execute:
            t = time.perf_counter()
            execute(nb)
            print(f"{out.name}: executed in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        nbformat.write(nb, out)
        print(f"{out.name}: {out.stat().st_size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
