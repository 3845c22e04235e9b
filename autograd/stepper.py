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
    >>> step_through(L).save("steps.html")  # the same, as a page with next / play / slider
    'steps.html'

The backward pass here is computed from each node's stored `local_grads`, into a private
table: `step_through` never reads or writes any `.grad`, so it can be called before or after
`backward()` and leaves the graph exactly as it found it.
"""
import hashlib
import html
import json
import secrets

from .render import RANKDIRS, add_value, fmt, new_graph, walk
from .value import Value

_SYMBOLS = {"+": "+", "-": "-", "*": "×", "/": "/", "**": "**"}
_MAX_TERMS = 6  # a linear node's formula shows this many w·x terms, then "…"


def step_through(root, *, rankdir="LR", max_nodes=500):
    """A Stepper over the graph of `root`: `.steps`, `print()`, Jupyter display, `.save(path)`."""
    return Stepper(root, rankdir=rankdir, max_nodes=max_nodes)


def _paren(s):
    return f"({s})" if s.startswith("-") else s


def _postorder(root):
    """Values in evaluation order: children (in operand order) before the node using them."""
    post, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            post.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        stack.extend((c, False) for c in reversed(v.children) if c not in seen)
    return post


class Stepper:
    """The steps of one forward and backward pass through `root`'s graph.

    `.steps` is a list of dicts, forward first:
    - forward: `{"phase": "forward", "node", "value", "text"}`, e.g. "d = a * b = 2 × 3 = 6";
    - then the seed `{"phase": "backward", "node", "grad": 1.0, "text": "∂L/∂L = 1"}`;
    - then one chain-rule product per edge: `{"phase": "backward", "node" (the child),
      "parent", "edge", "local", "upstream", "product", "grad" (the child's running total),
      "text"}`, e.g. "∂L/∂a += ∂d/∂a × ∂L/∂d = 3 × 1 = 3 → ∂L/∂a = 3".
    Node ids ("v0" is the root) are those of the drawn graph.
    """

    def __init__(self, root, *, rankdir="LR", max_nodes=500):
        if not isinstance(root, Value):
            raise TypeError(f"step_through: root must be a Value, got {type(root).__name__}")
        if rankdir not in RANKDIRS:
            raise ValueError(f"step_through: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
        self.root, self.rankdir = root, rankdir
        self._order, self._index = walk(root)
        if len(self._order) > max_nodes:
            raise ValueError(
                f"step_through: the graph has {len(self._order)} values, more than max_nodes="
                f"{max_nodes}; step through a smaller graph (one neuron, one loss term), or pass "
                f"a larger max_nodes")
        self.grads = {}  # Value -> ∂root/∂Value, filled by the backward steps
        self.steps = self._forward_steps() + self._backward_steps()

    # -- naming -----------------------------------------------------------------------------
    def _id(self, v):
        return f"v{self._index[v]}"

    def name(self, v):
        """How formulas call a node: its label, "L" for an unlabeled root, else its id."""
        if v.label:
            return v.label
        return "L" if v is self.root else self._id(v)

    # -- forward ----------------------------------------------------------------------------
    def _formula(self, v):
        """(symbolic, numeric) right-hand sides for node v, e.g. ("a * b", "2 × 3")."""
        op, name, kids = v._op, v._op.name, v.children
        if type(v._b) is tuple:  # n-ary
            operands = v.operands
            sym = [self.name(o) if isinstance(o, Value) else _paren(fmt(o)) for o in operands]
            num = [_paren(fmt(o.data if isinstance(o, Value) else o)) for o in operands]
            if name == "linear":
                n = (len(operands) - 1) // 2
                cut = min(n, _MAX_TERMS)
                more = f" + … ({n - cut} more)" if n > cut else ""
                s = " + ".join(f"{sym[i]}·{sym[n + i]}" for i in range(cut)) + more + f" + {sym[-1]}"
                x = " + ".join(f"{num[i]}×{num[n + i]}" for i in range(cut)) + more + f" + {num[-1]}"
                return s, x
            return f"{name}({', '.join(sym)})", f"{name}({', '.join(num)})"
        # Operands in written order, plain-number constants included.
        pairs = [(self.name(o), fmt(o.data)) if isinstance(o, Value) else (fmt(o), fmt(o))
                 for o in v.operands]
        if name == "neg":
            (s, x), = pairs
            return f"-{s}", f"-{_paren(x)}"
        if len(pairs) == 2 and name in _SYMBOLS:
            (s0, x0), (s1, x1) = pairs
            return f"{s0} {name} {s1}", f"{_paren(x0)} {_SYMBOLS[name]} {_paren(x1)}"
        return (f"{name}({', '.join(s for s, _ in pairs)})",
                f"{name}({', '.join(x for _, x in pairs)})")

    def _forward_steps(self):
        steps = []
        for v in _postorder(self.root):
            if v._op is None:
                continue
            s, x = self._formula(v)
            steps.append({"phase": "forward", "node": self._id(v), "value": v.data,
                          "text": f"{self.name(v)} = {s} = {x} = {fmt(v.data)}"})
        return steps

    # -- backward ---------------------------------------------------------------------------
    def _backward_steps(self):
        root, grads = self.root, self.grads
        L = self.name(root)
        grads[root] = 1.0
        steps = [{"phase": "backward", "node": self._id(root), "grad": 1.0,
                  "text": f"∂{L}/∂{L} = 1"}]
        seen = {root: 1}  # how many contributions each node's grad holds so far
        for p in reversed(_postorder(root)):
            if p._op is None:
                continue
            g, pn = grads[p], self.name(p)
            # The local factor is ∂p/∂c; at the root that would read ∂L/∂c, the very total
            # being accumulated, so there the local factor names the root's formula instead.
            local_of = f"∂({self._formula(p)[0]})/∂" if p is root else f"∂{pn}/∂"
            for j, (c, local) in enumerate(zip(p.children, p.local_grads)):
                product = local * g
                before = grads.get(c)
                total = product if before is None else before + product
                grads[c] = total
                seen[c] = seen.get(c, 0) + 1
                cn = self.name(c)
                acc = fmt(total) if before is None else f"{fmt(before)} + {_paren(fmt(product))} = {fmt(total)}"
                steps.append({
                    "phase": "backward", "node": self._id(c), "parent": self._id(p),
                    "edge": f"{self._id(p)}in{j}", "local": local, "upstream": g,
                    "product": product, "grad": total,
                    "text": f"∂{L}/∂{cn} += {local_of}{cn} × ∂{L}/∂{pn} = {_paren(fmt(local))} × "
                            f"{_paren(fmt(g))} = {fmt(product)} → ∂{L}/∂{cn} = {acc}"})
        return steps

    def __str__(self):
        return "\n".join(s["text"] for s in self.steps)

    def __repr__(self):
        return f"<Stepper: {len(self._order)} values, {len(self.steps)} steps>"

    # -- HTML -------------------------------------------------------------------------------
    def _svg(self):
        """The graph once, as SVG, with every box sized to fit all numbers it will show."""
        g = new_graph(self.rankdir)
        shown = {}  # node id -> every grad text its box will show
        for s in self.steps:
            if "grad" in s:
                shown.setdefault(s["node"], []).append(fmt(s["grad"]))
        for i, v in enumerate(self._order):
            texts = [fmt(v.data), "0", "?"] + shown.get(f"v{i}", [])
            width = round(8 + 6.2 * (5 + max(map(len, texts))))
            add_value(g, f"v{i}", v, self.name(v), fmt(self.grads.get(v, 0.0)), width=width)
        for i, v in enumerate(self._order):
            for j, c in enumerate(v.children):
                g.edge(self._id(c), f"v{i}op", id=f"v{i}in{j}")
        svg = g.pipe(format="svg").decode("utf-8")
        return svg[svg.index("<svg"):]

    def _payload(self):
        """What the page's script needs: per node its id and starting texts, per step what to
        highlight and which box text to change. Numbers are formatted here, once."""
        nodes = [{"id": f"v{i}", "data": fmt(v.data) if v._op is None else "?"}
                 for i, v in enumerate(self._order)]
        steps = []
        for s in self.steps:
            node = s["node"]
            if s["phase"] == "forward":
                i = int(node[1:])
                v = self._order[i]
                edges = [f"{node}in{j}" for j in range(len(v.children))] + [f"{node}out"]
                steps.append({"cur": node, "also": [node + "op"], "edges": edges,
                              "src": [self._id(c) for c in v.children],
                              "set": ["data", i, fmt(s["value"])], "text": s["text"]})
            elif "parent" in s:
                steps.append({"cur": node, "also": [s["parent"], s["parent"] + "op"],
                              "edges": [s["edge"]], "src": [],
                              "set": ["grad", int(node[1:]), fmt(s["grad"])], "text": s["text"]})
            else:
                steps.append({"cur": node, "also": [], "edges": [], "src": [],
                              "set": ["grad", int(node[1:]), fmt(s["grad"])], "text": s["text"]})
        return {"nodes": nodes, "steps": steps}

    def _repr_html_(self):
        """One self-contained fragment: inline SVG, data, style and script; loads nothing."""
        # A fresh id per display: the same stepper shown twice on a page (or again after a
        # kernel restart, next to the old output) must not drive the other copy.
        return self._html("cr" + secrets.token_hex(5))

    def _html(self, uid):
        svg = self._svg().replace(' id="', f' id="{uid}-')
        data = json.dumps(self._payload(), ensure_ascii=False).replace("</", "<\\/")
        n = len(self.steps)
        return (_TEMPLATE.replace("UID", uid).replace("NSTEPS", str(n))
                .replace("SVGDATA", svg).replace("JSONDATA", data))

    def save(self, path):
        """Write a standalone HTML page (no network needed to view it); returns `path`.
        The page holds one stepper, so its id comes from the steps: same graph, same file."""
        digest = hashlib.sha256("\n".join(map(str, self.steps)).encode()).hexdigest()[:10]
        page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>chainrule: stepping through {html.escape(self.name(self.root))}</title>"
                "</head><body>\n" + self._html("cr" + digest) + "\n</body></html>\n")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        return path


# Everything is scoped under #UID, so several steppers on one page never touch each other.
# Position p in 0..NSTEPS shows the state after the first p steps (0: nothing computed yet).
_TEMPLATE = """<div id="UID" class="chainrule-stepper" tabindex="0" data-pos="0">
<style>
#UID{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;border:1px solid #ccd;border-radius:6px;padding:8px;outline:none;max-width:100%}
#UID:focus{border-color:#4a78c2}
#UID .cr-bar{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-bottom:6px}
#UID button{font:inherit;padding:2px 10px;cursor:pointer}
#UID input[type=range]{flex:1;min-width:120px}
#UID .cr-formula{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:15px;padding:6px 8px;background:#f6f8fa;border-radius:4px;min-height:1.4em;white-space:pre-wrap}
#UID .cr-graph{overflow:auto;margin-top:6px}
#UID .cr-graph svg{max-width:100%;height:auto}
#UID g.cr-cur polygon,#UID g.cr-cur ellipse{stroke:#d62728;stroke-width:3px;fill:#fde2e2}
#UID g.cr-also polygon,#UID g.cr-also ellipse{stroke:#1f77b4;stroke-width:2px;fill:#e3eefa}
#UID g.cr-src polygon{stroke:#7f7f7f;stroke-width:2px}
#UID g.cr-edge path{stroke:#d62728;stroke-width:3px}
#UID g.cr-edge polygon{stroke:#d62728;fill:#d62728}
</style>
<div class="cr-bar">
<button type="button" id="UID-prev" title="previous step (←)">◀ prev</button>
<button type="button" id="UID-next" title="next step (→)">next ▶</button>
<button type="button" id="UID-play">play</button>
<input type="range" id="UID-slider" min="0" max="NSTEPS" value="0" aria-label="step">
<span id="UID-pos">0 / NSTEPS</span>
</div>
<div class="cr-formula" id="UID-formula">Start: the leaves hold their inputs. Press next (or →) to run the forward pass.</div>
<div class="cr-graph" id="UID-graph">SVGDATA</div>
<script type="application/json" id="UID-data">JSONDATA</script>
<script>
(function () {
  var uid = "UID", box = document.getElementById(uid);
  if (!box || box.getAttribute("data-ready")) return;
  box.setAttribute("data-ready", "1");
  var D = JSON.parse(document.getElementById(uid + "-data").textContent);
  var N = D.steps.length, pos = 0, timer = null;
  var intro = document.getElementById(uid + "-formula").textContent;
  function el(id) { return document.getElementById(uid + "-" + id); }
  // The last two texts of a value box are its "data …" and "grad …" cells.
  var cells = D.nodes.map(function (n) {
    var t = el(n.id).getElementsByTagName("text");
    return {data: t[t.length - 2], grad: t[t.length - 1]};
  });
  var marked = [];
  function mark(ids, cls) {
    ids.forEach(function (id) { var e = el(id); if (e) { e.classList.add(cls); marked.push([e, cls]); } });
  }
  function show(p) {
    pos = Math.max(0, Math.min(N, p));
    var data = D.nodes.map(function (n) { return n.data; });
    var grad = D.nodes.map(function () { return "0"; });
    for (var k = 0; k < pos; k++) {
      var s = D.steps[k].set;
      (s[0] === "data" ? data : grad)[s[1]] = s[2];
    }
    cells.forEach(function (c, i) {
      c.data.textContent = "data " + data[i];
      c.grad.textContent = "grad " + grad[i];
    });
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    var step = pos > 0 ? D.steps[pos - 1] : null;
    if (step) {
      mark([step.cur], "cr-cur"); mark(step.also, "cr-also");
      mark(step.src, "cr-src"); mark(step.edges, "cr-edge");
    }
    el("formula").textContent = step ? step.text : intro;
    el("slider").value = pos;
    el("pos").textContent = pos + " / " + N;
    el("prev").disabled = pos === 0;
    el("next").disabled = pos === N;
    box.setAttribute("data-pos", pos);
    box.setAttribute("data-current", step ? step.cur : "");
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } el("play").textContent = "play"; }
  function play() {
    if (timer) { stop(); return; }
    if (pos === N) show(0);
    el("play").textContent = "pause";
    timer = setInterval(function () { if (pos >= N) stop(); else show(pos + 1); }, 900);
  }
  el("prev").onclick = function () { stop(); show(pos - 1); };
  el("next").onclick = function () { stop(); show(pos + 1); };
  el("play").onclick = play;
  el("slider").oninput = function () { stop(); show(parseInt(this.value, 10)); };
  box.addEventListener("keydown", function (e) {
    var k = e.key, to = k === "ArrowRight" ? pos + 1 : k === "ArrowLeft" ? pos - 1 :
      k === "Home" ? 0 : k === "End" ? N : null;
    if (to === null || e.target.tagName === "INPUT") return;
    e.preventDefault(); e.stopPropagation(); stop(); show(to);
  });
  show(0);
})();
</script>
</div>"""
