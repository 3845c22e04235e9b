"""Replay a forward and backward pass one step at a time, in text or in a browser.

    >>> a = Value(2.0, label="a"); b = Value(3.0, label="b"); L = a * b + a; L.label = "L"
    >>> print(step_through(L))          # forward steps, then one chain-rule product per line
    v1 = a * b = 2 × 3 = 6
    L = v1 + a = 6 + 2 = 8
    ∂L/∂L = 1
    ∂L/∂v1 += ∂(v1 + a)/∂v1 × ∂L/∂L = 1 × 1 = 1 → ∂L/∂v1 = 1
    ∂L/∂a += ∂(v1 + a)/∂a × ∂L/∂L = 1 × 1 = 1 → ∂L/∂a = 1
    ∂L/∂a += ∂v1/∂a × ∂L/∂v1 = 3 × 1 = 3 → ∂L/∂a = 1 + 3 = 4
    ∂L/∂b += ∂v1/∂b × ∂L/∂v1 = 2 × 1 = 2 → ∂L/∂b = 2
    >>> step_through(L).save("steps.html")  # the same, as a page with next / play / zoom
    'steps.html'
    >>> print(step_through(L, mode="forward", wrt=a))   # tangents flow from a to L instead
    v1 = a * b = 2 × 3 = 6
    L = v1 + a = 6 + 2 = 8
    da/da = 1
    dv1/da += ∂v1/∂a × da/da = 3 × 1 = 3 → dv1/da = 3
    dL/da += ∂(v1 + a)/∂v1 × dv1/da = 1 × 3 = 3 → dL/da = 3
    dL/da += ∂(v1 + a)/∂a × da/da = 1 × 1 = 1 → dL/da = 3 + 1 = 4

Steps follow the engine's own order, `autograd.topo_order(root)`: backward visits the nodes
in that order, forward in its reverse. Unlabelled nodes are named in the order the forward
pass computes them (`v1`, `v2`, …; an unlabelled root is `L`), unlabelled inputs `x1`, `x2`, …
in the order the forward pass first reads them. A name holding an operator or a space is
bracketed inside formulas: `∂((a - y) ** 2)/∂(a - y)`.

The derivatives are computed from each node's stored `local_grads`, into a private table:
`step_through` never reads or writes any `.grad`, so it can be called before or after
`backward()` and leaves the graph exactly as it found it.

In Jupyter the stepper is one HTML fragment. Where scripts cannot run (a notebook opened
fresh, which JupyterLab does not trust) it shows its picture, its steps as text and a line
saying that running the cell makes it interactive; where they run, the interactive stepper
replaces those. The page's markup, style and script are the files in `stepper_page/`.
"""
import hashlib
import html
import json
import re
import secrets
from importlib.resources import files

from .backprop import topo_order
from .files import write_atomic
from .ops import INFIX
from .render import RANKDIRS, add_value, fmt, new_graph, operand_names, walk
from .value import Value

_SYMBOLS = {op: ("×" if op == "*" else op) for op in INFIX}  # how numbers are multiplied in text
_MAX_TERMS = 6  # a linear node's formula shows this many w·x terms, then "…"
_QUIZ_RTOL = 1e-6  # an answer within this relative distance of the recorded number is right
_MODES = ("reverse", "forward")
# A character outside brackets that makes a name compound, so formulas bracket it.
_COMPOUND = re.compile(r"[\s+\-*/^×·−÷=<>%@,]")


def step_through(root, *, rankdir="LR", max_nodes=500, quiz=False, mode="reverse", wrt=None):
    """A Stepper over the graph of `root`: `.steps`, `print()`, Jupyter display, `.save(path)`.

    `quiz=True` hides the derivative numbers on the page (and in `print()`): the learner types
    each local derivative and product, and the page marks each answer against the recorded
    number (relative tolerance 1e-6) or reveals it. `mode="forward", wrt=x` replaces the
    backward pass by forward mode: tangents dv/dx flow from `x` to the output, one product
    per step.
    """
    return Stepper(root, rankdir=rankdir, max_nodes=max_nodes, quiz=quiz, mode=mode, wrt=wrt)


def _paren(s):
    return f"({s})" if s.startswith("-") else s


def _atom(name):
    """`name` as an operand inside a formula: bracketed if an operator or space shows in it
    outside brackets (`a - y` → `(a - y)`; `a(L-1)` and `C₀` stay as they are)."""
    depth, flat = 0, []
    for ch in name:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch not in ")]}":
            flat.append(ch)
    return f"({name})" if _COMPOUND.search("".join(flat)) else name


def _exact(x):
    """Numbers in a quiz: enough digits that an answer can be checked to 1e-6."""
    s = f"{x:.10g}"
    return "0" if s == "-0" else s


def _uri(svg):
    """SVG as a data: URI inside a double-quoted HTML attribute. Only what a URL or the
    attribute cannot hold is escaped, so the markup stays readable (and stored once)."""
    return (svg.replace("%", "%25").replace("#", "%23").replace("\n", "%0A")
            .replace("&", "&amp;").replace('"', "&quot;"))


def _page_file(name):
    return files(__package__).joinpath("stepper_page", name).read_text(encoding="utf-8")


def _fill(template, **values):
    """Replace every {{key}} in `template`; a key without a value is a bug, so it raises."""
    def one(m):
        return values[m.group(1)]
    return re.sub(r"\{\{(\w+)\}\}", one, template)


class Stepper:
    """The steps of one forward pass and one derivative pass through `root`'s graph.

    `.steps` is a list of dicts, forward first:
    - forward: `{"phase": "forward", "node", "value", "text"}`, e.g. "d = a * b = 2 × 3 = 6";
    - reverse mode: the seed `{"phase": "backward", "node", "grad": 1.0, "text": "∂L/∂L = 1"}`,
      then one chain-rule product per edge: `{"phase": "backward", "node" (the child),
      "parent", "edge", "local", "upstream", "product", "grad" (the child's running total),
      "text"}`, e.g. "∂L/∂a += ∂d/∂a × ∂L/∂d = 3 × 1 = 3 → ∂L/∂a = 3";
    - forward mode: the seed `{"phase": "tangent", "node", "tangent": 1.0, "text"}`, then one
      product per edge along which x reaches the output: `{"phase": "tangent", "node" (the
      parent), "child", "edge", "local", "upstream" (dchild/dx), "product", "tangent"
      (the parent's running total), "text"}`.
    Every product step also has `"ask"`: its text with the local derivative and the product
    as "?", which is what quiz mode shows. Node ids are those of the drawn graph: `n0` is the
    root, then depth-first in operand order. `.names` maps each Value to the name formulas use.
    """

    def __init__(self, root, *, rankdir="LR", max_nodes=500, quiz=False, mode="reverse", wrt=None):
        if not isinstance(root, Value):
            raise TypeError(f"step_through: root must be a Value, got {type(root).__name__}")
        if rankdir not in RANKDIRS:
            raise ValueError(f"step_through: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
        if type(quiz) is not bool:
            raise TypeError(f"step_through: quiz must be True or False, got {quiz!r}")
        if mode not in _MODES:
            raise ValueError(f"step_through: mode must be 'reverse' or 'forward', got {mode!r}")
        self.root, self.rankdir, self.quiz, self.mode = root, rankdir, quiz, mode
        self._order, self._index = walk(root)
        if len(self._order) > max_nodes:
            raise ValueError(
                f"step_through: the graph has {len(self._order)} values, more than max_nodes="
                f"{max_nodes}; step through a smaller graph (one neuron, one loss term), or pass "
                f"a larger max_nodes")
        if mode == "forward":
            if not isinstance(wrt, Value):
                raise TypeError("step_through: mode='forward' needs wrt=<the Value the tangents "
                                f"start from>, got {type(wrt).__name__}")
            if wrt not in self._index:
                raise ValueError(f"step_through: wrt={wrt!r} is not in the graph of the root")
        elif wrt is not None:
            raise ValueError("step_through: wrt is for mode='forward'; reverse mode differentiates "
                             "the root with respect to every input")
        self.wrt = wrt
        self._fmt = _exact if quiz else fmt
        self._forward_order = topo_order(root)[::-1]  # the engine's order, inputs first
        self.names = self._names()
        self._local_names = {}  # edge id -> how its local factor is written (∂d/∂a)
        self.grads = {}     # Value -> ∂root/∂Value, filled by reverse mode
        self.tangents = {}  # Value -> dValue/dwrt, filled by forward mode
        derivative = self._tangent_steps() if mode == "forward" else self._backward_steps()
        self.steps = self._forward_steps() + derivative

    # -- naming -----------------------------------------------------------------------------
    def _id(self, v):
        return f"n{self._index[v]}"

    def _names(self):
        names, computed, inputs = {}, 0, 0
        for v in self._forward_order:
            for c in v.children:
                if c.is_leaf and c not in names:
                    inputs += not c.label
                    names[c] = c.label or f"x{inputs}"
            if v is not self.root:
                computed += not v.label
                names[v] = v.label or f"v{computed}"
        names[self.root] = self.root.label or "L"
        return names

    def name(self, v):
        """How formulas call a node: its label, "L" for an unlabelled root, v1… for the
        other computed nodes and x1… for inputs, in forward order."""
        return self.names[v]

    # -- forward ----------------------------------------------------------------------------
    def _formula(self, v):
        """(symbolic, numeric) right-hand sides for node v, e.g. ("a * b", "2 × 3")."""
        name, f = v.op, self._fmt
        # Operands in written order, plain-number constants included.
        pairs = [(_atom(self.name(o)), _paren(f(o.data))) if isinstance(o, Value)
                 else (_paren(f(o)), _paren(f(o))) for o in v.operands]
        if name == "linear":
            n = (len(pairs) - 1) // 2
            cut = min(n, _MAX_TERMS)
            more = f" + … ({n - cut} more)" if n > cut else ""
            s = " + ".join(f"{pairs[i][0]}·{pairs[n + i][0]}" for i in range(cut)) + more
            x = " + ".join(f"{pairs[i][1]}×{pairs[n + i][1]}" for i in range(cut)) + more
            return f"{s} + {pairs[-1][0]}", f"{x} + {pairs[-1][1]}"
        if name == "neg":
            (s, x), = pairs
            return f"-{s}", f"-{x}"
        if len(pairs) == 2 and name in _SYMBOLS:
            (s0, x0), (s1, x1) = pairs
            return f"{s0} {name} {s1}", f"{x0} {_SYMBOLS[name]} {x1}"
        return (f"{name}({', '.join(s for s, _ in pairs)})",
                f"{name}({', '.join(x for _, x in pairs)})")

    def _forward_steps(self):
        steps = []
        for v in self._forward_order:
            s, x = self._formula(v)
            steps.append({"phase": "forward", "node": self._id(v), "value": v.data,
                          "text": f"{self.name(v)} = {s} = {x} = {self._fmt(v.data)}"})
        return steps

    def _product_texts(self, head, local_name, up_name, local, up, product, before, after):
        """The full text of one product step, and the quiz's question (numbers hidden)."""
        f = self._fmt
        acc = f(after) if before is None else f"{f(before)} + {_paren(f(product))} = {f(after)}"
        text = (f"{head} += {local_name} × {up_name} = {_paren(f(local))} × {_paren(f(up))} = "
                f"{f(product)} → {head} = {acc}")
        ask = f"{head} += {local_name} × {up_name} = ? × {_paren(f(up))} = ?"
        return text, ask

    # -- reverse mode -----------------------------------------------------------------------
    def _backward_steps(self):
        root, grads = self.root, self.grads
        L = _atom(self.name(root))
        grads[root] = 1.0
        steps = [{"phase": "backward", "node": self._id(root), "grad": 1.0,
                  "text": f"∂{L}/∂{L} = 1"}]
        for p in self._forward_order[::-1]:
            g, pn = grads[p], _atom(self.name(p))
            # The local factor is ∂p/∂c; at the root that would read ∂L/∂c, the very total
            # being accumulated, so there the local factor names the root's formula instead.
            local_of = f"∂({self._formula(p)[0]})/∂" if p is root else f"∂{pn}/∂"
            for j, (c, local) in enumerate(zip(p.children, p.local_grads)):
                product = local * g
                before = grads.get(c)
                total = product if before is None else before + product
                grads[c] = total
                cn = _atom(self.name(c))
                head = f"∂{L}/∂{cn}"
                self._local_names[f"{self._id(p)}in{j}"] = local_of + cn
                text, ask = self._product_texts(head, local_of + cn, f"∂{L}/∂{pn}",
                                                local, g, product, before, total)
                steps.append({
                    "phase": "backward", "node": self._id(c), "parent": self._id(p),
                    "edge": f"{self._id(p)}in{j}", "local": local, "upstream": g,
                    "product": product, "grad": total, "text": text, "ask": ask})
        return steps

    # -- forward mode -----------------------------------------------------------------------
    def _tangent_steps(self):
        x, tangents = self.wrt, self.tangents
        X = _atom(self.name(x))
        tangents[x] = 1.0
        steps = [{"phase": "tangent", "node": self._id(x), "tangent": 1.0,
                  "text": f"d{X}/d{X} = 1"}]
        for v in self._forward_order:
            if v is x:
                continue
            vn = _atom(self.name(v))
            local_of = f"∂({self._formula(v)[0]})/∂" if v is self.root else f"∂{vn}/∂"
            for j, (c, local) in enumerate(zip(v.children, v.local_grads)):
                if c not in tangents:  # c does not depend on x: its tangent is 0
                    continue
                up = tangents[c]
                product = local * up
                before = tangents.get(v)
                total = product if before is None else before + product
                tangents[v] = total
                cn = _atom(self.name(c))
                head = f"d{vn}/d{X}"
                self._local_names[f"{self._id(v)}in{j}"] = local_of + cn
                text, ask = self._product_texts(head, local_of + cn, f"d{cn}/d{X}",
                                                local, up, product, before, total)
                steps.append({
                    "phase": "tangent", "node": self._id(v), "child": self._id(c),
                    "edge": f"{self._id(v)}in{j}", "local": local, "upstream": up,
                    "product": product, "tangent": total, "text": text, "ask": ask})
        return steps

    # -- text -------------------------------------------------------------------------------
    def _shown_text(self, step):
        return step["ask"] if self.quiz and "ask" in step else step["text"]

    def __str__(self):
        return "\n".join(self._shown_text(s) for s in self.steps)

    def __repr__(self):
        return f"<Stepper: {len(self._order)} values, {len(self.steps)} steps>"

    # -- HTML -------------------------------------------------------------------------------
    def _cell_name(self):
        """The second number in each box: the gradient, or in forward mode the tangent."""
        return "grad" if self.mode == "reverse" else f"d/d{_atom(self.name(self.wrt))}"

    def _final(self, v):
        """The derivative number a box shows once every step has run."""
        table = self.grads if self.mode == "reverse" else self.tangents
        return self._fmt(table.get(v, 0.0))

    def _svg(self):
        """The graph once, as SVG, every box sized to fit all numbers it will show, and showing
        the end state (in a quiz, the derivatives as "?")."""
        g, f, cell = new_graph(self.rankdir), self._fmt, self._cell_name()
        g.graph_attr["ranksep"] = "0.5"  # room for the operand names at the ops
        shown = {}  # node id -> every derivative text its box will show
        for s in self.steps:
            key = "grad" if "grad" in s else "tangent" if "tangent" in s else None
            if key:
                shown.setdefault(s["node"], []).append(f(s[key]))
        for i, v in enumerate(self._order):
            texts = [f(v.data), "0", "?"] + shown.get(f"n{i}", [])
            # Wide enough for the widest text at 7.2 pt a character: DejaVu Sans, which stands
            # in for Helvetica on most Linux browsers, is wider than Graphviz's own estimate.
            width = round(8 + 7.2 * (max(len("data"), len(cell)) + 1 + max(map(len, texts))))
            add_value(g, f"n{i}", v, self.name(v), "?" if self.quiz else self._final(v), width=width,
                      grad_name=cell)
        sides = ("n", "s") if self.rankdir in ("LR", "RL") else ("w", "e")
        for i, v in enumerate(self._order):
            names = operand_names(v)  # as draw() names them: x - y, base ** exp
            for j, c in enumerate(v.children):
                # Where order matters the first operand enters the op from above (or the left),
                # the second from below (or the right), each named where it arrives.
                g.edge(self._id(c), f"n{i}op", id=f"n{i}in{j}", headport=sides[j] if names else None,
                       headlabel=names[j] if names else None, labeldistance="2",
                       labelangle="-40" if j else "40", labelfontcolor="#0d47a1")
        svg = g.pipe(format="svg").decode("utf-8")
        # Graphviz's comments and titles name the internal ids only (and titles pop up as
        # tooltips): left out, they take a tenth off every display.
        svg = re.sub(r"<!--.*?-->\n|<title>.*?</title>\n", "", svg[svg.index("<svg"):])
        return svg

    def _payload(self):
        """What the page's script needs: per node its id and starting texts, per step what to
        highlight, which box text to change, and in a quiz the numbers to check against."""
        f = self._fmt
        nodes = [{"id": f"n{i}", "data": f(v.data) if v.is_leaf else "?"}
                 for i, v in enumerate(self._order)]
        steps = []
        for s in self.steps:
            node = s["node"]
            i = int(node[1:])
            if s["phase"] == "forward":
                v = self._order[i]
                edges = [f"{node}in{j}" for j in range(len(v.children))] + [f"{node}out"]
                step = {"cur": node, "also": [node + "op"], "edges": edges,
                        "src": [self._id(c) for c in v.children], "set": ["data", i, f(s["value"])]}
            else:
                total = s["grad"] if "grad" in s else s["tangent"]
                came_from = s.get("parent") or s.get("child")
                step = {"cur": node, "also": [came_from, came_from + "op"] if came_from else [],
                        "edges": [s["edge"]] if "edge" in s else [], "src": [],
                        "set": ["grad", i, f(total)]}
                if self.quiz and "ask" in s:
                    step["quiz"] = {"local": s["local"], "product": s["product"],
                                    "name": self._local_names[s["edge"]], "up": f(s["upstream"]),
                                    "ask": s["ask"]}
            step["text"] = s["text"]
            steps.append(step)
        return {"nodes": nodes, "steps": steps, "cell": self._cell_name(), "quiz": self.quiz,
                "rtol": _QUIZ_RTOL}

    def _repr_html_(self):
        """One self-contained fragment: picture, data, style and script; loads nothing."""
        # A fresh id per display: the same stepper shown twice on a page (or again after a
        # kernel restart, next to the old output) must not drive the other copy.
        return self._html("cr" + secrets.token_hex(5), standalone=False)

    def _html(self, uid, standalone):
        svg = self._svg().replace(' id="', f' id="{uid}-')
        data = json.dumps(self._payload(), ensure_ascii=False).replace("</", "<\\/")
        n = len(self.steps)
        steps = "".join(f"<li>{html.escape(self._shown_text(s))}</li>" for s in self.steps)
        what = "gradient" if self.mode == "reverse" else "tangent"
        values = dict(uid=uid, nsteps=str(n), what=what)
        ui = _fill(_page_file("stepper_ui.html"), css=_fill(_page_file("stepper.css"), **values),
                   **values)
        # Each display carries the script, so its comments and indentation are left out.
        js = "\n".join(line.strip() for line in _page_file("stepper.js").splitlines()
                       if line.strip() and not line.strip().startswith("//"))
        script = _fill(js, standalone="true" if standalone else "false", **values)
        return _fill(_page_file("stepper.html"), svg=_uri(svg), steps=steps,
                     open=" open" if n <= 40 else "", ui=ui, data=data,
                     script=script, name=html.escape(self.name(self.root)), **values)

    def save(self, path):
        """Write a standalone HTML page (no network needed to view it); returns `path`.
        The page holds one stepper, so its id comes from the steps: same graph, same file."""
        digest = hashlib.sha256("\n".join(map(str, self.steps)).encode()).hexdigest()[:10]
        page = _fill(_page_file("page.html"), name=html.escape(self.name(self.root)),
                     stepper=self._html("cr" + digest, standalone=True))
        write_atomic(path, page)
        return path
