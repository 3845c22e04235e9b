"""Deciding what a drawing shows: which values get a box of their own and which share one.

A plan gives every value a key: None (its own box) or the key of the box it is folded into.
Plans are tried from the most detailed to the coarsest, and the first whose picture stays
readable wins: at most `max_nodes` boxes, and no box joined to more than `MAX_FAN` others
(edges between the same two boxes drawn once, bundles between layers drawn once):

1. every value;
2. one box per neuron (nn records a neuron's path in `Value.scope`; its parameters carry
   it in their labels; skipped for a batch, whose neurons have no single output to show)
   and one per chain of an associative op (`a + b + c + ...`: a long sum is a long row of
   boxes otherwise); with, in addition, one box per group of parallel values (same op, same
   height, joined to the same boxes or layers) when that is needed to fit, or removes at
   least half of the edges;
3. the same with one box per layer;
4. the boxes nearest the root, the rest folded into one.

The fan-out limit is what keeps layout fast: a value used by a hundred ops at a hundred
different depths (`x + x + ... + x`) is what makes Graphviz's layout take minutes.
"""
from .ops import COMMUTATIVE

MAX_FAN = 20     # boxes one box may be joined to before a plan counts as unreadable
MAX_DEPTH = 40   # values along the longest path drawn one by one (a long sum is a long row)
BUNDLE_MIN = 4   # this many edges between two layers' boxes are drawn as one
CHAIN_MIN = 3    # a run of this many + (or *) nodes is folded into one box


class Structure:
    """The graph as index lists: `kids[i]` (operand order) and `users[i]` of `order[i]`."""

    def __init__(self, order, index):
        self.order = order
        self.kids = [[index[c] for c in v.children] for v in order]
        self.users = [[] for _ in order]
        for i, ks in enumerate(self.kids):
            for k in ks:
                self.users[k].append(i)
        self.height = _heights(self.kids)


def _heights(kids):
    """Longest path down to a leaf, for every value (iterative postorder)."""
    height = [-1] * len(kids)
    for start in range(len(kids)):
        if height[start] >= 0:
            continue
        stack = [(start, False)]
        while stack:
            i, done = stack.pop()
            if done:
                height[i] = 1 + max((height[k] for k in kids[i]), default=-1)
                continue
            if height[i] >= 0:
                continue
            stack.append((i, True))
            stack.extend((k, False) for k in kids[i] if height[k] < 0)
    return height


# -- keys -------------------------------------------------------------------------------
def scope_keys(order):
    """Each value's neuron: its scope, or for a parameter (a leaf nn labels
    `layers.0.neurons.3.w.17`) the longest dotted prefix of its label that is a scope here."""
    scopes = {v.scope for v in order if v.scope}
    keys = []
    for v in order:
        key = v.scope or None
        if key is None and v.is_leaf and v.label and scopes:
            prefix = v.label
            while "." in prefix:
                prefix = prefix.rsplit(".", 1)[0]
                if prefix in scopes:
                    key = prefix
                    break
        keys.append(key)
    return keys


def layer_of(key):
    """"layers.1.neurons.4" -> "layers.1"; None for a key that is not a neuron's path."""
    if isinstance(key, str):
        parts = key.split(".")
        if len(parts) >= 4:
            return ".".join(parts[:-2])
    return None


def fold_chains(s, keys):
    """Runs of one associative op, each link used only by the next, into ("chain", top)."""
    order, keys = s.order, list(keys)
    top = {}
    for i, v in enumerate(order):  # preorder: a value's only user comes before it
        if keys[i] is not None or v.is_leaf or v.op not in COMMUTATIVE:
            continue
        us = s.users[i]
        p = us[0] if len(us) == 1 else None
        if p is not None and keys[p] is None and order[p].op == v.op and p in top:
            top[i] = top[p]
        else:
            top[i] = i
    size = {}
    for t in top.values():
        size[t] = size.get(t, 0) + 1
    for i, t in top.items():
        if size[t] >= CHAIN_MIN:
            keys[i] = ("chain", t)
    return keys


def fold_parallel(s, keys, limit=None, marked=None):
    """Values with no box yet that do the same op at the same height between the same boxes
    (a hundred samples' `relu`, a hundred inputs of one sum) into ("class", first). Plain-
    number operands may differ (`x * 0.3`, `x * -1.2`: one per sample's data). Values
    `marked` (on a highlighted path) and unmarked ones never share a box.
    None when that would still draw more than `limit` boxes (known before the costly part:
    refining classes only ever splits them)."""
    order, keys = s.order, list(keys)
    free = [i for i, k in enumerate(keys) if k is None]
    if len(free) < 2:
        return keys
    if limit is not None and len({s.height[i] for i in free}) > limit:
        return None  # a class never spans two heights, so at least that many boxes
    box_id = {}
    fixed = [None] * len(order)
    for i, k in enumerate(keys):
        if k is not None:
            # A neuron's box counts as its layer: the ten `z - max` of ten logits are parallel.
            fixed[i] = box_id.setdefault(_end(k), -1 - len(box_id))
    sig0 = {}
    cls = [None] * len(order)
    for i in free:
        v = order[i]
        sig = ("leaf",) if v.is_leaf else (v.op, s.height[i])
        cls[i] = sig0.setdefault(sig + ((marked[i],) if marked else ()), len(sig0))
    n_classes = len(sig0)
    if limit is not None and n_classes + len(box_id) > limit:
        return None
    while True:
        def box(j):
            return fixed[j] if fixed[j] is not None else cls[j]
        sigs = {}
        new = {}
        for i in free:
            sig = (cls[i], tuple(sorted({box(k) for k in s.kids[i]})),
                   tuple(sorted({box(u) for u in s.users[i]})))
            new[i] = sigs.setdefault(sig, len(sigs))
        for i in free:
            cls[i] = new[i]
        if len(sigs) == n_classes:
            break
        n_classes = len(sigs)
    first, count = {}, {}
    for i in free:
        first.setdefault(cls[i], i)
        count[cls[i]] = count.get(cls[i], 0) + 1
    for i in free:
        if count[cls[i]] > 1:
            keys[i] = ("class", first[cls[i]])
    return _join_runs(s, keys)


def _join_runs(s, keys):
    """A group feeding only one other group of the same size, one edge per member (the
    hundred `1 + ·` feeding the hundred `relu`), joins it: one box for the whole run."""
    members = {}
    for i, k in enumerate(keys):
        if isinstance(k, tuple) and k[0] == "class":
            members.setdefault(k, []).append(i)
    into = {}
    for k, ms in members.items():
        targets = {keys[u] for i in ms for u in s.users[i]}
        if len(targets) != 1:
            continue
        t, = targets
        if t in members and len(members[t]) == len(ms) and \
                sum(len(s.users[i]) for i in ms) == len(ms) and \
                all(keys[c] == k for j in members[t] for c in s.kids[j] if keys[c] is None or keys[c][0] == "class") and \
                all(sum(keys[c] == k for c in s.kids[j]) == 1 for j in members[t]):
            into[k] = t
    def final(k):
        while k in into:
            k = into[k]
        return k
    return [final(k) if k in into else k for k in keys]


def truncate(keys, order, max_nodes):
    """Keep the `max_nodes - 1` boxes nearest the root (preorder), fold the rest into one."""
    seen, out = {}, []
    for i, k in enumerate(keys):
        item = k if k is not None else ("v", i)
        if item not in seen:
            seen[item] = len(seen)
        out.append(k if seen[item] < max_nodes - 1 else ("rest",))
    return out


# -- what a plan draws ------------------------------------------------------------------
def box_of(keys, i):
    k = keys[i]
    return ("v", i) if k is None else k


def drawn_edges(s, keys):
    """{(src box, dst box): number of operand occurrences} between different boxes, in
    first-seen order (deterministic)."""
    edges = {}
    for i, ks in enumerate(s.kids):
        b = box_of(keys, i)
        for k in ks:
            c = box_of(keys, k)
            if c != b:
                edges[c, b] = edges.get((c, b), 0) + 1
    return edges


def bundles(edges):
    """Group edges into bundles: {(src end, dst end): [(src, dst), ...]} where an end is a
    box's layer (("layer", path)) when the box is a neuron. A group of at least BUNDLE_MIN
    box pairs with a layer at one end at least is drawn as one edge."""
    groups = {}
    for (a, b) in edges:
        ea, eb = _end(a), _end(b)
        groups.setdefault((ea, eb), []).append((a, b))
    return {ends: pairs for ends, pairs in groups.items()
            if len(pairs) >= BUNDLE_MIN and (ends[0][0] == "layer" or ends[1][0] == "layer")
            and ends[0] != ends[1]}


def _end(box):
    layer = layer_of(box)
    return ("layer", layer) if layer else ("box", box)


def measure(s, keys, max_nodes):
    """(boxes, largest fan, lines drawn, the box-to-box edges) of the picture a plan draws;
    the last three only when the boxes fit."""
    boxes = len({box_of(keys, i) for i in range(len(keys))})
    if boxes > max_nodes:
        return boxes, None, None, None
    edges = drawn_edges(s, keys)
    bundled = bundles(edges)
    in_bundle = {p for pairs in bundled.values() for p in pairs}
    near = {}
    for (a, b) in edges:
        if (a, b) not in in_bundle:
            near.setdefault(a, set()).add(b)
            near.setdefault(b, set()).add(a)
    for (ea, eb) in bundled:
        near.setdefault(ea, set()).add(eb)
        near.setdefault(eb, set()).add(ea)
    drawn = len(edges) - len(in_bundle) + len(bundled)
    return boxes, max((len(n) for n in near.values()), default=0), drawn, edges


def on_path(s, starts):
    """on[i]: order[i] is one of `starts` (indices) or depends on one, so lies on a path from
    it to the root."""
    on = [False] * len(s.order)
    stack = list(starts)
    for i in starts:
        on[i] = True
    while stack:
        i = stack.pop()
        for u in s.users[i]:
            if not on[u]:
                on[u] = True
                stack.append(u)
    return on


def plan(order, index, max_nodes, highlight=()):
    """(keys, Structure, marked): the keys of the most detailed readable plan (see the module
    docstring), and which values lie on a path from a `highlight` index to the root."""
    s = Structure(order, index)
    marked = on_path(s, highlight)
    full = [None] * len(order)
    if len(order) <= max_nodes and _full_fan(s) <= MAX_FAN and s.height[0] < MAX_DEPTH:
        return full, s, marked
    neuron = scope_keys(order)
    layer = [layer_of(k) or k for k in neuron]
    bases = (neuron, layer) if layer != neuron else (neuron,)
    if len(bases) == 2 and _batched(s, neuron):
        bases = (layer,)
    fallback, chained = None, None
    for base in bases:
        chained = fold_chains(s, base)
        readable = None  # (keys, lines drawn) of the first readable plan at this level
        for make in (lambda: chained, lambda: fold_parallel(s, chained, max_nodes, marked)):
            keys = make()
            if keys is None:
                continue
            boxes, fan, drawn, edges = measure(s, keys, max_nodes)
            if boxes > max_nodes:
                continue
            if fan <= MAX_FAN and _depth(edges, keys) <= MAX_DEPTH:
                # Folding parallel values is worth its lost detail when it removes most of
                # the edges (ten logits' rows of `-` and `exp` crossing each other).
                if readable is None or drawn * 2 <= readable[1]:
                    readable = keys, drawn
            fallback = fallback or keys
        if readable is not None:
            return readable[0], s, marked
    if fallback is not None:
        return fallback, s, marked
    if len(order) <= max_nodes:
        return full, s, marked
    parallel = fold_parallel(s, chained, 50 * max_nodes, marked)  # chained: of `layer`
    return truncate(parallel or chained, order, max_nodes), s, marked


def _batched(s, keys):
    """True when most neurons output several values (one per sample of a batch): a neuron's
    box then has no numbers to show, and one box per layer says as much in less room."""
    outs = {}
    for i, k in enumerate(keys):
        if layer_of(k) and (i == 0 or any(keys[u] != k for u in s.users[i])):
            outs[k] = outs.get(k, 0) + 1
    return bool(outs) and sum(n > 1 for n in outs.values()) * 2 > len(outs)


def _depth(edges, keys):
    """Boxes along the longest path of the picture a plan draws, given its edges."""
    kids = {}
    for a, b in edges:
        kids.setdefault(b, []).append(a)
    depth = {}
    # Iterative longest path. Folding can join boxes into a cycle (a neuron box using a value
    # that depends on the same neuron): a box met again while open counts 0 there.
    opened = set()
    for start in list(kids) + [box_of(keys, 0)]:
        stack = [(start, False)]
        while stack:
            b, done = stack.pop()
            if b in depth:
                continue
            if done:
                depth[b] = 1 + max((depth.get(a, 0) for a in kids.get(b, ())), default=0)
                continue
            if b in opened:
                continue
            opened.add(b)
            stack.append((b, True))
            stack.extend((a, False) for a in kids.get(b, ()) if a not in depth and a not in opened)
    return max(depth.values(), default=1)


def _full_fan(s):
    return max((max(len(set(ks)), len(set(us))) for ks, us in zip(s.kids, s.users)), default=0)
