"use strict";
// Replays a recorded training run: every frame's numbers, curves up to that frame, and the
// decision boundary drawn from the frame's grid of predictions. Loads nothing.
(function () {
  const run = JSON.parse(document.getElementById("run-data").textContent);
  const num = (x) => (typeof x === "string" ? Number(x) : x); // "NaN", "Infinity" come as text
  const frames = run.frames;
  const $ = (id) => document.getElementById(id);
  const slider = $("slider");
  let index = 0;
  let timer = null;

  const exact = (x) => (x === null || x === undefined ? "–" : String(num(x)));
  const pct = (x) => (x === null || x === undefined ? "–" : (100 * num(x)).toFixed(1) + " %");
  const sig = (x) => (x === null || x === undefined ? "–" : Number(num(x).toPrecision(3)).toString());
  const log10 = (x) => {
    if (x === null || x === undefined) return "–";
    x = num(x);
    if (x === 0) return "−∞";
    return Number.isFinite(x) ? Math.log10(x).toFixed(2) : "nan";
  };

  $("summary").textContent = run.summary;
  slider.max = String(frames.length - 1);

  // -- curves -------------------------------------------------------------------------------
  const PAD = { l: 46, r: 10, t: 10, b: 22 };
  function axes(canvas, xmax, ymin, ymax, ticks) {
    const g = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    g.strokeStyle = "#ccc"; g.fillStyle = "#555"; g.lineWidth = 1;
    const X = (s) => PAD.l + (w - PAD.l - PAD.r) * (xmax ? s / xmax : 0);
    const Y = (v) => h - PAD.b - (h - PAD.t - PAD.b) * (ymax > ymin ? (v - ymin) / (ymax - ymin) : 0.5);
    g.beginPath(); g.moveTo(PAD.l, PAD.t); g.lineTo(PAD.l, h - PAD.b); g.lineTo(w - PAD.r, h - PAD.b); g.stroke();
    for (const v of ticks) {
      g.fillText(ticks.format(v), 4, Y(v) + 4);
      g.beginPath(); g.moveTo(PAD.l - 3, Y(v)); g.lineTo(PAD.l, Y(v)); g.stroke();
    }
    g.fillText("0", PAD.l - 3, h - 6);
    const last = "step " + xmax;
    g.fillText(last, w - PAD.r - g.measureText(last).width, h - 6);
    return { g, X, Y };
  }
  function line(ctx, pts, color, width, dash) {
    const { g, X, Y } = ctx;
    g.strokeStyle = color; g.lineWidth = width; g.setLineDash(dash || []);
    g.beginPath();
    let pen = false;
    for (const [s, v] of pts) {
      if (v === null || !Number.isFinite(v)) { pen = false; continue; }
      if (pen) g.lineTo(X(s), Y(v)); else g.moveTo(X(s), Y(v));
      pen = true;
    }
    g.stroke(); g.setLineDash([]);
  }
  function legend(ctx, items) {
    const { g } = ctx;
    let x = PAD.l + 8;
    for (const [label, color] of items) {
      g.fillStyle = color; g.fillRect(x, PAD.t + 2, 14, 3);
      g.fillStyle = "#333"; g.fillText(label, x + 18, PAD.t + 7);
      x += 26 + g.measureText(label).width;
    }
  }
  function cursor(ctx, step, canvas) {
    const { g, X } = ctx;
    g.strokeStyle = "rgba(200, 40, 40, 0.5)"; g.lineWidth = 1; g.setLineDash([3, 3]);
    g.beginPath(); g.moveTo(X(step), PAD.t); g.lineTo(X(step), canvas.height - PAD.b); g.stroke();
    g.setLineDash([]);
  }
  const lastStep = frames[frames.length - 1].step || 1;
  const curve = run.curve.map(([s, v]) => [s, num(v)]);
  const lossValues = curve.map((p) => p[1])
    .concat(frames.map((f) => num(f.train_loss)), frames.map((f) => num(f.test_loss)))
    .filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  // Scale to the 98th percentile, so one wild batch does not flatten the curve.
  const lossTop = lossValues.length ? lossValues[Math.floor(0.98 * (lossValues.length - 1))] * 1.05 : 1;
  function niceTicks(lo, hi, n, format) {
    const t = [];
    for (let i = 0; i <= n; i++) t.push(lo + (hi - lo) * i / n);
    t.format = format;
    return t;
  }
  function drawCurves() {
    const upto = frames.slice(0, index + 1);
    const step = frames[index].step;
    const lc = $("loss");
    const L = axes(lc, lastStep, 0, lossTop, niceTicks(0, lossTop, 4, (v) => v.toPrecision(2)));
    line(L, curve.filter((p) => p[0] <= step).map(([s, v]) => [s, Math.min(v, lossTop)]), "#bbb", 1);
    line(L, upto.map((f) => [f.step, num(f.train_loss)]), "#1f77b4", 2);
    if (run.has_test) line(L, upto.map((f) => [f.step, num(f.test_loss)]), "#ff7f0e", 2);
    legend(L, [["batch", "#bbb"], ["train sample", "#1f77b4"]].concat(run.has_test ? [["test", "#ff7f0e"]] : []));
    cursor(L, step, lc);
    const ac = $("accuracy");
    const A = axes(ac, lastStep, 0, 1, niceTicks(0, 1, 2, (v) => (100 * v).toFixed(0) + "%"));
    line(A, upto.map((f) => [f.step, num(f.train_accuracy)]), "#1f77b4", 2);
    if (run.has_test) line(A, upto.map((f) => [f.step, num(f.test_accuracy)]), "#ff7f0e", 2);
    legend(A, [["train sample", "#1f77b4"]].concat(run.has_test ? [["test", "#ff7f0e"]] : []));
    cursor(A, step, ac);
  }

  // -- decision boundary --------------------------------------------------------------------
  const COLORS = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
  const grid = run.grid; // {sizes, bounds: [x0, x1, y0, y1], binary, points}
  if (!grid) $("boundary-box").classList.add("hidden");
  // The layers' activations on floats, as the op table computes them (nn.mlp.ACTIVATIONS;
  // the browser tests compare every one with Python's). JavaScript has no erf: Abramowitz &
  // Stegun 7.1.26, within 1.5e-7, is exact enough for a picture.
  const erf = (x) => {
    const s = x < 0 ? -1 : 1, a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
    return s * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
      + 0.254829592) * t * Math.exp(-a * a));
  };
  const sigmoid = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
  const ACTIVATIONS = {
    relu: (x) => (x <= 0 ? 0 : x),
    tanh: Math.tanh,
    sigmoid,
    leaky_relu: (x) => (x > 0 ? x : 0.01 * x),
    elu: (x) => (x > 0 ? x : Math.expm1(x)),
    gelu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
    softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  };
  // A frame's parameters: each layer's weight rows then its biases, float64 little-endian.
  function network(b64) {
    const bytes = decode(b64), view = new DataView(bytes.buffer);
    let at = 0;
    const next = () => { const v = view.getFloat64(at, true); at += 8; return v; };
    return run.layers.map(([, act], i) => {
      const nin = grid.sizes[i], nout = grid.sizes[i + 1];
      const W = Array.from({ length: nout }, () => Float64Array.from({ length: nin }, next));
      const B = Float64Array.from({ length: nout }, next);
      return { W, B, act: act === null ? null : ACTIVATIONS[act] };
    });
  }
  function forward(net, x) {
    let h = x;
    for (const { W, B, act } of net) {
      const out = new Float64Array(B.length);
      for (let j = 0; j < B.length; j++) {
        let z = 0;
        const w = W[j];
        for (let i = 0; i < w.length; i++) z += w[i] * h[i];
        z += B[j];
        out[j] = act ? act(z) : z;
      }
      h = out;
    }
    return h;
  }
  // P(class 1) for one output, else the predicted class: as the recorder's grid_values.
  function predict(net, x) {
    const out = forward(net, x);
    if (out.length === 1) return sigmoid(out[0]);
    let best = 0;
    for (let j = 1; j < out.length; j++) if (out[j] > out[best]) best = j;
    return best;
  }
  window.replay = { network, predict, activations: ACTIVATIONS, frame: () => index };
  function decode(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const CELL = 4; // canvas pixels per evaluated cell: 120×90 cells on the 480×360 canvas
  function drawBoundary() {
    if (!grid) return;
    const canvas = $("boundary");
    const g = canvas.getContext("2d");
    const cols = Math.ceil(canvas.width / CELL), rows = Math.ceil(canvas.height / CELL);
    const [x0, x1, y0, y1] = grid.bounds;
    const net = network(frames[index].weights);
    const img = g.createImageData(cols, rows);
    const value = new Float64Array(cols * rows); // P(class 1), or the class
    const x = new Float64Array(2);
    for (let r = 0, i = 0; r < rows; r++) {
      x[1] = y1 - (y1 - y0) * (r + 0.5) / rows; // row 0 at the top
      for (let col = 0; col < cols; col++, i++) {
        x[0] = x0 + (x1 - x0) * (col + 0.5) / cols;
        const p = predict(net, x);
        value[i] = p;
        let c;
        if (grid.binary) { // blend class 0's colour into class 1's by P(class 1)
          const a = COLORS[0], b = COLORS[1], q = Number.isFinite(p) ? p : 0;
          c = [0, 1, 2].map((k) => a[k] + (b[k] - a[k]) * q);
        } else c = COLORS[p % COLORS.length];
        // pastel: mix with white
        img.data[4 * i] = 255 - 0.45 * (255 - c[0]);
        img.data[4 * i + 1] = 255 - 0.45 * (255 - c[1]);
        img.data[4 * i + 2] = 255 - 0.45 * (255 - c[2]);
        img.data[4 * i + 3] = 255;
      }
    }
    // Draw the small grid image scaled up; smoothing blends neighbouring cells.
    const small = document.createElement("canvas");
    small.width = cols; small.height = rows;
    small.getContext("2d").putImageData(img, 0, 0);
    g.imageSmoothingEnabled = true;
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.drawImage(small, 0, 0, canvas.width, canvas.height);
    // The boundary itself: a dot wherever neighbouring cells fall on either side of
    // P = 0.5 (or predict different classes), placed where P crosses 0.5 between them.
    g.fillStyle = "#222";
    const cw = canvas.width / cols, ch = canvas.height / rows;
    const side = (v) => (grid.binary ? v > 0.5 : v);
    const at = (a, b) => (grid.binary && a !== b ? (0.5 - a) / (b - a) : 0.5);
    for (let r = 0; r < rows; r++) {
      for (let col = 0; col < cols; col++) {
        const i = r * cols + col;
        if (col + 1 < cols && side(value[i]) !== side(value[i + 1]))
          g.fillRect((col + 0.5 + at(value[i], value[i + 1])) * cw - 1, (r + 0.5) * ch - 1, 2, 2);
        if (r + 1 < rows && side(value[i]) !== side(value[i + cols]))
          g.fillRect((col + 0.5) * cw - 1, (r + 0.5 + at(value[i], value[i + cols])) * ch - 1, 2, 2);
      }
    }
    const px = (x) => (x - x0) / (x1 - x0) * canvas.width;
    const py = (y) => (y1 - y) / (y1 - y0) * canvas.height;
    for (const [x, y, t] of grid.points) {
      const c = COLORS[t % COLORS.length];
      g.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      g.strokeStyle = "#222"; g.lineWidth = 0.6;
      g.beginPath(); g.arc(px(x), py(y), 3.2, 0, 2 * Math.PI); g.fill(); g.stroke();
    }
  }

  // -- tables -------------------------------------------------------------------------------
  function rows(tbody, data, rowClass) {
    tbody.textContent = "";
    data.forEach((cells, i) => {
      const tr = document.createElement("tr");
      const cls = rowClass && rowClass(i);
      if (cls) tr.className = cls;
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
  }
  function drawTables() {
    const f = frames[index];
    rows($("numbers").tBodies[0], [
      ["step", String(f.step)],
      ["epochs completed", String(f.epochs_done)],
      ["batch loss", exact(f.loss)],
      ["train sample loss", exact(f.train_loss)],
      ["train sample accuracy", pct(f.train_accuracy)],
      ["test loss", exact(f.test_loss)],
      ["test accuracy", pct(f.test_accuracy)],
    ]);
    rows($("health").tBodies[0], run.layers.map(([path, act], i) => {
      const [dead, sat, mean, std, gd, ud, flags] = f.layers[i];
      return [path, act || "linear", dead === null ? "–" : String(dead), sat === null ? "–" : pct(sat),
        sig(mean), sig(std), log10(gd), log10(ud), flags || "ok"];
    }), (i) => (f.layers[i][6] ? "flagged" : ""));
    $("dead").textContent = f.dead.length ? "dead units: " + f.dead.join(", ") : "";
    const done = f.epochs_done;
    rows($("epochs").tBodies[0], run.epochs.map((e) => [String(e.epoch), exact(e.loss),
      pct(e.train_accuracy), pct(e.test_accuracy), e.seconds === undefined ? "–" : num(e.seconds).toFixed(1)]),
    (i) => (i < done ? "" : i === done ? "current" : "later"));
  }

  function show(i) {
    index = Math.max(0, Math.min(frames.length - 1, i));
    slider.value = String(index);
    const f = frames[index];
    $("position").textContent = `frame ${index + 1} / ${frames.length} · step ${f.step}`;
    drawBoundary();
    drawCurves();
    drawTables();
  }
  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ play";
  }
  function play() {
    if (index === frames.length - 1) show(0);
    $("play").textContent = "⏸ pause";
    timer = setInterval(() => {
      if (index >= frames.length - 1) pause(); else show(index + 1);
    }, Math.max(30, Math.min(200, 12000 / frames.length)));
  }
  $("play").onclick = () => (timer === null ? play() : pause());
  $("prev").onclick = () => { pause(); show(index - 1); };
  $("next").onclick = () => { pause(); show(index + 1); };
  $("first").onclick = () => { pause(); show(0); };
  slider.oninput = () => { pause(); show(Number(slider.value)); };
  document.addEventListener("keydown", (e) => {
    if (e.target === slider && (e.key === "ArrowLeft" || e.key === "ArrowRight")) return;
    if (e.key === "ArrowRight") { pause(); show(index + 1); }
    else if (e.key === "ArrowLeft") { pause(); show(index - 1); }
    else if (e.key === "Home") { pause(); show(0); }
    else if (e.key === "End") { pause(); show(frames.length - 1); }
    else if (e.key === " ") { e.preventDefault(); timer === null ? play() : pause(); }
    else return;
  });
  show(frames.length - 1);
})();
