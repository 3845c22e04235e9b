// One stepper, found by its id: several on a page never touch each other. Position p in
// 0..N shows the state after the first p steps (0: nothing computed yet).
(function () {
  var uid = "{{uid}}", standalone = {{standalone}};
  var box = document.getElementById(uid);
  if (!box || box.getAttribute("data-ready")) return;
  box.setAttribute("data-ready", "1");
  function el(id) { return document.getElementById(uid + "-" + id); }
  var D = JSON.parse(el("data").textContent);
  // The static picture is the graph, stored once: the interactive graph is decoded from it.
  var still = el("static"), src = still.getElementsByTagName("img")[0].getAttribute("src");
  var markup = decodeURIComponent(src.slice(src.indexOf(",") + 1));
  box.insertAdjacentHTML("afterbegin", el("ui").textContent);
  still.parentNode.removeChild(still);
  box.setAttribute("tabindex", "0");
  var graph = el("graph");
  graph.innerHTML = markup;
  var svg = graph.getElementsByTagName("svg")[0];
  var N = D.steps.length, pos = 0, timer = null;
  var intro = "Start: the leaves hold their inputs. Press next ▶ " +
    (standalone ? "(or →)" : "(or click the stepper, then →)") + " to run the forward pass.";
  if (standalone) el("keys").textContent = el("keys").textContent.replace(/ \(.*\)$/, "");

  // -- scale: natural size by default (Graphviz's points at 96 dpi), zoom, fit -------------
  function px(s) { var x = parseFloat(s); return /pt$/.test(s) ? x * 4 / 3 : x; }
  var natW = px(svg.getAttribute("width")), natH = px(svg.getAttribute("height"));
  svg.removeAttribute("width"); svg.removeAttribute("height");
  var scale = 1, fit = false, unfit = 1;
  function resize() {
    svg.style.width = natW * scale + "px";
    svg.style.height = natH * scale + "px";
    el("scale").textContent = Math.round(scale * 100) + "%";
    el("fit").setAttribute("aria-pressed", fit ? "true" : "false");
    box.setAttribute("data-scale", scale.toFixed(4));
  }
  // Keep the point (cx, cy) of the graph's box where it is while the scale changes.
  function zoomTo(s, cx, cy) {
    s = Math.max(0.1, Math.min(4, s));
    if (cx === undefined) { cx = graph.clientWidth / 2; cy = graph.clientHeight / 2; }
    var x = (graph.scrollLeft + cx) / scale, y = (graph.scrollTop + cy) / scale;
    scale = s; resize();
    graph.scrollLeft = x * scale - cx; graph.scrollTop = y * scale - cy;
  }
  function zoom(f) { fit = false; zoomTo(scale * f); }
  function toggleFit() {
    if (fit) { fit = false; zoomTo(unfit); return; }
    unfit = scale; fit = true;
    var room = Math.min(window.innerHeight * 0.7, Math.max(graph.clientHeight, 200));
    zoomTo(Math.min(1, (graph.clientWidth - 4) / natW, (room - 4) / natH));
  }
  graph.addEventListener("wheel", function (e) {
    if (!e.ctrlKey) return;  // a plain wheel scrolls, as everywhere else
    e.preventDefault(); e.stopPropagation();
    var b = graph.getBoundingClientRect();
    fit = false;
    zoomTo(scale * (e.deltaY < 0 ? 1.1 : 1 / 1.1),
           e.clientX - b.left - graph.clientLeft, e.clientY - b.top - graph.clientTop);
  }, {passive: false});

  // Dragging the picture pans it, as in a map.
  var drag = null;
  graph.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, left: graph.scrollLeft, top: graph.scrollTop};
  });
  graph.addEventListener("pointermove", function (e) {
    if (!drag || !(e.buttons & 1)) { drag = null; return; }
    if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 3) graph.classList.add("cr-panning");
    graph.scrollLeft = drag.left - (e.clientX - drag.x);
    graph.scrollTop = drag.top - (e.clientY - drag.y);
    e.preventDefault();
  });
  window.addEventListener("pointerup", function () { drag = null; graph.classList.remove("cr-panning"); });

  // Scroll the graph's own box (never the page) so that `node` is in view.
  function bringIntoView(node) {
    if (!node) return;
    var r = node.getBoundingClientRect(), b = graph.getBoundingClientRect();
    var left = b.left + graph.clientLeft, top = b.top + graph.clientTop;
    var w = graph.clientWidth, h = graph.clientHeight;
    if (r.left < left || r.right > left + w) graph.scrollLeft += r.left + r.width / 2 - (left + w / 2);
    if (r.top < top || r.bottom > top + h) graph.scrollTop += r.top + r.height / 2 - (top + h / 2);
  }

  // -- the boxes' numbers: the last two texts of a value box are its two number cells ------
  var cells = D.nodes.map(function (n) {
    var t = el(n.id).getElementsByTagName("text");
    return {data: t[t.length - 2], grad: t[t.length - 1]};
  });
  var marked = [];
  function mark(ids, cls) {
    ids.forEach(function (id) { var e = el(id); if (e) { e.classList.add(cls); marked.push([e, cls]); } });
  }

  // -- quiz: answers per step; a step is solved once both answers are right or revealed ---
  var answers = D.steps.map(function () { return null; });
  function solved(k) { var a = answers[k]; return !D.steps[k].quiz || (a && (a.revealed || (a.okLocal && a.okProduct))); }
  function parse(s) {
    var num = "([+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?)";
    var m = new RegExp("^" + num + "(?:\\s*/\\s*" + num + ")?$", "i").exec(s.trim().replace(/\u2212/g, "-"));
    if (!m) return NaN;
    return m[2] === undefined ? parseFloat(m[1]) : parseFloat(m[1]) / parseFloat(m[2]);
  }
  function close(x, t) { return x === t || Math.abs(x - t) <= D.rtol * Math.max(Math.abs(t), Math.abs(x)); }
  function check() {
    var k = pos - 1, q = k >= 0 && D.steps[k].quiz;
    if (!q) return;
    var a = answers[k] || (answers[k] = {});
    a.local = el("qlocal").value; a.product = el("qproduct").value;
    a.okLocal = close(parse(a.local), q.local);
    a.okProduct = close(parse(a.product), q.product);
    a.checked = true;
    show(pos);
  }
  function reveal() {
    var k = pos - 1, q = k >= 0 && D.steps[k].quiz;
    if (!q) return;
    var a = answers[k] || (answers[k] = {});
    a.local = String(q.local); a.product = String(q.product);
    a.okLocal = a.okProduct = a.checked = a.revealed = true;
    show(pos);
  }
  function showQuiz(k) {
    var q = k >= 0 && D.steps[k].quiz, row = el("quiz");
    row.hidden = !q;
    if (!q) return;
    var a = answers[k] || {};
    el("qname").textContent = q.name;
    el("qup").textContent = q.up;
    [["qlocal", a.local, a.okLocal], ["qproduct", a.product, a.okProduct]].forEach(function (f) {
      var input = el(f[0]);
      input.value = f[1] || "";
      input.classList.toggle("cr-right", !!a.checked && f[2]);
      input.classList.toggle("cr-wrong", !!a.checked && !f[2]);
      el(f[0] + "-mark").textContent = a.checked ? (f[2] ? "✓" : "✗") : "";
    });
  }

  // -- one position -------------------------------------------------------------------------
  function show(p) {
    pos = Math.max(0, Math.min(N, p));
    var data = D.nodes.map(function (n) { return n.data; });
    var grad = D.nodes.map(function () { return "0"; }), hidden = {};
    for (var k = 0; k < pos; k++) {
      var s = D.steps[k].set;
      if (s[0] === "data") { data[s[1]] = s[2]; continue; }
      grad[s[1]] = s[2];
      if (!solved(k)) hidden[s[1]] = true;  // an unanswered product leaves its total unknown
    }
    cells.forEach(function (c, i) {
      c.data.textContent = "data " + data[i];
      c.grad.textContent = D.cell + " " + (hidden[i] ? "?" : grad[i]);
    });
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    var step = pos > 0 ? D.steps[pos - 1] : null;
    if (step) {
      mark([step.cur], "cr-cur"); mark(step.also, "cr-also");
      mark(step.src, "cr-src"); mark(step.edges, "cr-edge");
    }
    el("formula").textContent = !step ? intro : solved(pos - 1) ? step.text : step.quiz.ask;
    showQuiz(pos - 1);
    el("slider").value = pos;
    el("pos").textContent = pos + " / " + N;
    el("prev").disabled = pos === 0;
    el("next").disabled = pos === N;
    box.setAttribute("data-pos", pos);
    box.setAttribute("data-current", step ? step.cur : "");
    if (step) bringIntoView(el(step.cur));
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
  el("zoomin").onclick = function () { zoom(1.25); };
  el("zoomout").onclick = function () { zoom(1 / 1.25); };
  el("fit").onclick = toggleFit;
  el("check").onclick = check;
  el("reveal").onclick = reveal;

  // -- keys: on the whole page when the stepper is the page; in a notebook only while the
  // stepper has the focus, so JupyterLab keeps its own keys everywhere else.
  function onKey(e) {
    var t = e.target, tag = t && t.tagName;
    if (tag === "INPUT" && t.type === "text") {
      if (e.key === "Enter") { e.preventDefault(); check(); }
      if (box.contains(t)) e.stopPropagation();
      return;
    }
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      if (box.contains(t)) e.stopPropagation();  // the slider moves itself
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key, to = k === "ArrowRight" ? pos + 1 : k === "ArrowLeft" ? pos - 1 :
      k === "Home" ? 0 : k === "End" ? N : null;
    if (to !== null) { stop(); show(to); }
    else if (k === "+" || k === "=") zoom(1.25);
    else if (k === "-") zoom(1 / 1.25);
    else if (k === "f") toggleFit();
    else return;
    e.preventDefault(); e.stopPropagation();
  }
  if (standalone) document.addEventListener("keydown", onKey);
  else box.addEventListener("keydown", onKey);
  // One click anywhere on the stepper (but a control) gives it the keys; JupyterLab would
  // otherwise move the focus to the notebook on the same click.
  box.addEventListener("click", function (e) {
    if (!/^(INPUT|BUTTON|TEXTAREA|SELECT)$/.test(e.target.tagName)) box.focus({preventScroll: true});
  });
  // A click elsewhere takes the keys away again. JupyterLab keeps the focus where it is when
  // a click stays inside the notebook, so the stepper lets go of it itself.
  function letGo(e) {
    if (!box.isConnected) { document.removeEventListener("mousedown", letGo, true); return; }
    if (!box.contains(e.target) && box.contains(document.activeElement)) document.activeElement.blur();
  }
  if (!standalone) document.addEventListener("mousedown", letGo, true);
  resize();
  show(0);
})();
