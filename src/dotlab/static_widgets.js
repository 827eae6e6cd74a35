/* dotlab static widgets: the course's explorers, computed in the browser.
 *
 * One script runs every explorer, in the built book (no kernel, no network) and in
 * Jupyter (a trusted text/html output runs its scripts). Python (dotlab.static_widgets)
 * writes, for each explorer, a div with class "dotlab-widget" and data-component="NAME"
 * holding its CONFIG in a script element of type application/json (and a fallback text),
 * followed by this whole file in a script element. (The closing tag of a script element
 * must never appear in this file: it would end the inline copy early.)
 *
 * and this file mounts every such div it has not mounted yet. A component is a function
 * (root, config) that builds its controls and redraws its display on every input event.
 *
 * Ports of Python functions (explorerFrame, softmax, entropy) follow their originals
 * line by line; tests/test_browser.py runs both on the same inputs and compares.
 */
(function () {
  "use strict";
  var VERSION = "3";  // a new version replaces an older one already on the page
  if (window.dotlabWidgets && window.dotlabWidgets.version === VERSION) {
    window.dotlabWidgets.mountAll();
    return;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var COLOURS = {  // dotlab.explorer.COLOURS (Okabe-Ito)
    a: "#0072B2", b: "#E69F00", positive: "#009E73", negative: "#D55E00", guide: "#999999",
  };
  var AXIS = "#dddddd";
  // In a dark theme each colour is drawn as its dark variant, the one the book's figures
  // use (dotlab.figures.DARK_OF; the axes a grey that shows on the explorer's dark box):
  // a CSS rule outranks the colour an SVG element carries as an attribute, so the
  // pictures need no redraw when the reader switches theme.
  var DARK = {
    "#0072B2": "#4ea8e8", "#E69F00": "#f2b33d", "#009E73": "#2cc798", "#D55E00": "#ff8a4c",
    "#999999": "#a6a6a6", "#dddddd": "#5c5c5c",
  };
  var ARC_POINTS = 41;  // dotlab.explorer._ARC_POINTS

  // -- numbers ------------------------------------------------------------------------

  /** Python's float `x % m` for m > 0: the result takes the sign of m (CPython float_rem). */
  function pyMod(x, m) {
    var r = x % m;  // C fmod: exact
    if (r !== 0) { if (r < 0) r += m; } else { r = 0; }
    return r;
  }

  /** x with `digits` decimals, as Python's f"{x:.{digits}f}", but never "-0.00". */
  function fixed(x, digits) {
    var s = x.toFixed(digits);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }

  /** A factor as written by hand: negatives in parentheses (dotlab.explorer.readout_html). */
  function factor(x) { var s = fixed(x, 2); return s.charAt(0) === "-" ? "(" + s + ")" : s; }

  // -- chapter 1: dotlab.explorer.explorer_frame --------------------------------------

  function unit(degrees) {  // exact at every quarter turn, like dotlab.explorer._unit
    var exact = { 0: [1, 0], 90: [0, 1], 180: [-1, 0], 270: [0, -1] };
    if (Object.prototype.hasOwnProperty.call(exact, degrees)) return exact[degrees];
    var rad = degrees * (Math.PI / 180);
    return [Math.cos(rad), Math.sin(rad)];
  }

  function arc(start, turn, radius) {
    var sweep = turn <= 180 ? turn : turn - 360;  // negative: go clockwise
    var points = [];
    for (var i = 0; i < ARC_POINTS; i++) {
      var t = (start + sweep * i / (ARC_POINTS - 1)) * (Math.PI / 180);
      points.push([radius * Math.cos(t), radius * Math.sin(t)]);
    }
    return points;
  }

  /** The geometry of two 2-D vectors given by length and direction (degrees). */
  function explorerFrame(lengthA, angleA, lengthB, angleB) {
    [lengthA, lengthB].forEach(function (v) {
      if (!(isFinite(v) && v > 0)) throw new RangeError("lengths must be positive and finite, got " + v);
    });
    angleA = pyMod(angleA, 360);
    angleB = pyMod(angleB, 360);
    var ua = unit(angleA), ub = unit(angleB);
    var a = [lengthA * ua[0], lengthA * ua[1]];
    var b = [lengthB * ub[0], lengthB * ub[1]];
    // 1. The definition: multiply matching components, add.
    var dot = a[0] * b[0] + a[1] * b[1];
    // 2. The geometry: divide out both lengths, clamped against rounding.
    var cosine = Math.max(-1, Math.min(1, dot / (lengthA * lengthB)));
    // 3. The angle between them, the short way round.
    var turn = pyMod(angleB - angleA, 360);
    var theta = Math.min(turn, 360 - turn);
    // 4. b's shadow on the line through a.
    var scalarProjection = dot / lengthA;
    var scale = dot / (lengthA * lengthA);
    var projection = [scale * a[0], scale * a[1]];
    var reach = [];
    [a, b, projection].forEach(function (p) { reach.push(Math.abs(p[0]), Math.abs(p[1])); });
    reach.push(0.3 * Math.max(lengthA, lengthB));
    return {
      length_a: lengthA, angle_a: angleA, length_b: lengthB, angle_b: angleB,
      a: a, b: b, dot: dot, cosine: cosine, theta: theta,
      scalar_projection: scalarProjection, projection: projection,
      arc: arc(angleA, turn, 0.3 * Math.min(lengthA, lengthB)),
      extent: 1.15 * Math.max.apply(null, reach),
    };
  }

  // -- chapter 4: dotlab.softmax.softmax and entropy ----------------------------------

  function softmax(scores, temperature) {
    if (!(isFinite(temperature) && temperature > 0)) throw new RangeError("temperature must be positive, got " + temperature);
    var top = Math.max.apply(null, scores);
    // Shift first, then divide: every exponent is <= 0, so nothing overflows.
    var e = scores.map(function (x) { return Math.exp((x - top) / temperature); });
    var total = e.reduce(function (s, v) { return s + v; }, 0);
    return e.map(function (v) { return v / total; });
  }

  function entropy(p) {  // nats; an entry of 0 contributes 0, the limit of p log p
    return -p.reduce(function (s, v) { return v > 0 ? s + v * Math.log(v) : s; }, 0);
  }

  // -- building blocks ----------------------------------------------------------------

  var uid = 0;
  function el(tag, attrs, children) {
    var node = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  /** A labelled range input whose current value is shown beside it. */
  function slider(spec, onInput) {
    var id = "dotlab-control-" + (++uid);
    var input = el("input", {
      type: "range", id: id, min: spec.min, max: spec.max, step: spec.step, value: spec.value,
      "data-control": spec.name,
    });
    var shown = el("output", { "for": id, "data-role": "value" });
    var show = function () { shown.textContent = spec.format ? spec.format(input) : input.value; };
    input.addEventListener("input", function () { show(); onInput(); });
    show();
    return el("div", { "class": "dotlab-control" }, [el("label", { "for": id }, [spec.label]), input, shown]);
  }

  function checkbox(spec, onInput) {
    var id = "dotlab-control-" + (++uid);
    var input = el("input", { type: "checkbox", id: id, "data-control": spec.name });
    input.checked = !!spec.value;
    input.addEventListener("input", onInput);
    return el("div", { "class": "dotlab-control dotlab-check" }, [input, el("label", { "for": id }, [spec.label])]);
  }

  /** Readout rows: [label, text, quantity name (for data-quantity), bold?]. */
  function readout(table, rows) {
    table.textContent = "";
    rows.forEach(function (r) {
      var value = el("span", r[2] ? { "data-quantity": r[2] } : {}, [r[1]]);
      if (r[3]) value.style.fontWeight = "bold";
      table.appendChild(el("div", { "class": "dotlab-row" }, [el("span", { "class": "dotlab-key" }, [r[0]]), value]));
    });
  }

  // -- component: the vector explorer (chapter 1) --------------------------------------

  var SIZE = 360;  // the picture's width and height, in SVG user units
  // Text in a picture is at least the book's small print (14 px, dotlab.figures.SMALL_PT)
  // where the picture is shown smallest: the vector explorer at 320 px of its 360 units,
  // the softmax bars at their own width or a phone's column (about 330 px).
  var SMALL = 16;

  function drawVectors(svg, f, half) {
    var px = function (p) {  // data coordinates -> SVG user units (y up -> y down)
      return [(p[0] + half) / (2 * half) * SIZE, (half - p[1]) / (2 * half) * SIZE];
    };
    var line = function (p, q, attrs) {
      var P = px(p), Q = px(q);
      return el("svg:line", Object.assign({ x1: P[0], y1: P[1], x2: Q[0], y2: Q[1] }, attrs));
    };
    var ua = [f.a[0] / f.length_a, f.a[1] / f.length_a];
    var far = 3 * half;
    var shadowColour = f.dot >= 0 ? COLOURS.positive : COLOURS.negative;
    var parts = [
      line([-half, 0], [half, 0], { stroke: AXIS, "stroke-width": 0.8 }),
      line([0, -half], [0, half], { stroke: AXIS, "stroke-width": 0.8 }),
      // The line through a, far past the view, so a shadow behind the origin has a home.
      line([-far * ua[0], -far * ua[1]], [far * ua[0], far * ua[1]],
           { stroke: COLOURS.guide, "stroke-width": 0.8, "stroke-dasharray": "5 3", "data-role": "line-a" }),
      // The drop from b's tip meets that line at a right angle.
      line(f.b, f.projection, { stroke: COLOURS.guide, "stroke-width": 1, "stroke-dasharray": "1.5 2.5" }),
      line([0, 0], f.projection, { stroke: shadowColour, "stroke-width": 7, "stroke-opacity": 0.55, "data-role": "shadow" }),
    ];
    ["a", "b"].forEach(function (name) {
      var tip = f[name], P = px(tip), O = px([0, 0]);
      var dx = P[0] - O[0], dy = P[1] - O[1], len = Math.hypot(dx, dy) || 1;
      var ux = dx / len, uy = dy / len, head = Math.min(14, 0.45 * len), wing = head * 0.45;
      var base = [P[0] - ux * head, P[1] - uy * head];
      parts.push(el("svg:line", { x1: O[0], y1: O[1], x2: base[0], y2: base[1], stroke: COLOURS[name], "stroke-width": 2.6 }));
      parts.push(el("svg:polygon", {
        points: [P, [base[0] - uy * wing, base[1] + ux * wing], [base[0] + uy * wing, base[1] - ux * wing]]
          .map(function (p) { return p[0].toFixed(2) + "," + p[1].toFixed(2); }).join(" "),
        fill: COLOURS[name], "data-role": "arrow-" + name, "data-tip": P[0].toFixed(3) + "," + P[1].toFixed(3),
      }));
      var L = px([tip[0] * 1.08, tip[1] * 1.08]);
      parts.push(el("svg:text", { x: L[0], y: L[1], fill: COLOURS[name], "font-size": 18, "font-weight": "bold",
        "text-anchor": "middle", "dominant-baseline": "central" }, [name]));
    });
    parts.push(el("svg:polyline", {
      points: f.arc.map(function (p) { var P = px(p); return P[0].toFixed(2) + "," + P[1].toFixed(2); }).join(" "),
      fill: "none", stroke: "currentColor", "stroke-width": 1,
    }));
    if (f.theta >= 15) {  // a narrower angle has no room for its label between the arrows
      var mid = f.arc[(f.arc.length - 1) / 2], M = px([mid[0] * 1.7, mid[1] * 1.7]);
      parts.push(el("svg:text", { x: M[0], y: M[1], fill: "currentColor", "font-size": SMALL,
        "text-anchor": "middle", "dominant-baseline": "central" }, [fixed(f.theta, 0) + "°"]));
    }
    svg.textContent = "";
    parts.forEach(function (p) { svg.appendChild(p); });
    svg.setAttribute("aria-label",
      "Vector a, " + fixed(f.length_a, 1) + " long at " + fixed(f.angle_a, 0) + "°, and vector b, " +
      fixed(f.length_b, 1) + " long at " + fixed(f.angle_b, 0) + "°, from the origin; they are " +
      fixed(f.theta, 0) + "° apart. b's shadow on the line through a is " + fixed(f.scalar_projection, 2) +
      " long" + (f.dot < 0 ? ", behind the origin" : "") + ". a·b = " + fixed(f.dot, 3) + ".");
  }

  function vectorExplorer(root, config) {
    var half = 1.15 * config.max_length;  // a fixed view: the axes stay still while sliders move
    var wrap = function (deg) { return pyMod(deg + 180, 360) - 180; };  // sliders read -180..180
    var deg = function (input) { return input.value + "°"; };
    var len = function (input) { return fixed(parseFloat(input.value), 1); };
    var specs = [
      { name: "length_a", label: "length of a", min: 0.1, max: config.max_length, step: 0.1, value: config.length_a, format: len },
      { name: "angle_a", label: "angle of a", min: -180, max: 180, step: 1, value: wrap(config.angle_a), format: deg },
      { name: "length_b", label: "length of b", min: 0.1, max: config.max_length, step: 0.1, value: config.length_b, format: len },
      { name: "angle_b", label: "angle of b", min: -180, max: 180, step: 1, value: wrap(config.angle_b), format: deg },
    ];
    var table = el("div", { "class": "dotlab-readout", "aria-live": "polite" });
    var svg = el("svg:svg", { viewBox: "0 0 " + SIZE + " " + SIZE, role: "img", "data-role": "picture" });
    var controls = el("div", { "class": "dotlab-controls" });
    var update = function () {
      var v = {};
      controls.querySelectorAll("input").forEach(function (i) { v[i.dataset.control] = parseFloat(i.value); });
      var f = explorerFrame(v.length_a, v.angle_a, v.length_b, v.angle_b);
      drawVectors(svg, f, half);
      readout(table, [
        ["a·b = a₁b₁ + a₂b₂", factor(f.a[0]) + "×" + factor(f.b[0]) + " + " +
          factor(f.a[1]) + "×" + factor(f.b[1]) + " = " + fixed(f.dot, 3), "dot", true],
        ["|a| |b| cos θ", fixed(f.length_a, 2) + " × " + fixed(f.length_b, 2) + " × " + fixed(f.cosine, 3) +
          " = " + fixed(f.length_a * f.length_b * f.cosine, 3), "dot_by_cosine", true],
        ["cos θ", fixed(f.cosine, 3), "cosine"],
        ["θ", fixed(f.theta, 1) + "°", "theta"],
        ["shadow of b on a, a·b / |a|", fixed(f.scalar_projection, 3), "scalar_projection"],
      ]);
      root.dispatchEvent(new CustomEvent("dotlab:update", { detail: f }));
    };
    specs.forEach(function (s) { controls.appendChild(slider(s, update)); });
    root.appendChild(el("div", { "data-role": "display" }, [
      el("div", { "class": "dotlab-layout" }, [controls, el("div", { "class": "dotlab-picture" }, [svg])]), table]));
    update();
  }

  // -- component: softmax with a temperature (chapter 4) -------------------------------

  function softmaxExplorer(root, config) {
    var n = config.scores.length, W = 340, H = 200, pad = 30;
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "data-role": "picture" });
    svg.style.maxWidth = W + "px";  // never drawn larger than it was designed: its text neither
    var table = el("div", { "class": "dotlab-readout", "aria-live": "polite" });
    // The slider moves log10 τ on a grid of about 100 steps a decade that holds t_min,
    // the starting temperature and t_max exactly, and τ is read from the grid point: a
    // fixed step of 0.01 from log10(t_min) held none of them (τ read "1.00" at 0.998
    // and stopped at 19.91).
    var lo = Math.log10(config.t_min), mid = Math.log10(config.temperature), hi = Math.log10(config.t_max);
    var below = Math.max(1, Math.round((mid - lo) * 100)), above = Math.max(1, Math.round((hi - mid) * 100));
    var onGrid = function (v) {
      if (v <= mid) return lo + (mid - lo) * Math.round((v - lo) / (mid - lo || 1) * below) / below;
      return mid + (hi - mid) * Math.round((v - mid) / (hi - mid || 1) * above) / above;
    };
    var tau = function (input) {
      var v = Math.min(hi, Math.max(lo, onGrid(parseFloat(input.value))));
      if (parseFloat(input.value) !== v) input.value = String(v);
      return v === mid ? config.temperature : v === hi ? config.t_max : v === lo ? config.t_min : Math.pow(10, v);
    };
    var controls = el("div", { "class": "dotlab-controls" });
    var update = function () {
      var t = tau(controls.querySelector("input"));
      var w = softmax(config.scores, t), h = entropy(w);
      svg.textContent = "";
      var slot = (W - 2 * pad) / n;
      svg.appendChild(el("svg:line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "currentColor" }));
      var uniform = H - pad - (H - 2 * pad) / n;
      svg.appendChild(el("svg:line", { x1: pad, y1: uniform, x2: W - pad, y2: uniform, stroke: COLOURS.guide, "stroke-dasharray": "4 3" }));
      w.forEach(function (p, i) {
        var bh = p * (H - 2 * pad), x = pad + i * slot + slot * 0.15;
        svg.appendChild(el("svg:rect", { x: x, y: H - pad - bh, width: slot * 0.7, height: bh, fill: COLOURS.b, "data-weight": p }));
        svg.appendChild(el("svg:text", { x: x + slot * 0.35, y: H - pad - bh - 5, "font-size": SMALL - 1, fill: "currentColor", "text-anchor": "middle" }, [fixed(p, 2)]));
        svg.appendChild(el("svg:text", { x: x + slot * 0.35, y: H - pad + 20, "font-size": SMALL - 1, fill: "currentColor", "text-anchor": "middle" }, [config.labels[i]]));
      });
      svg.setAttribute("aria-label", "Bars of the softmax weights at temperature " + fixed(t, 2) + ": " +
        w.map(function (p, i) { return config.labels[i] + " " + fixed(p, 2); }).join(", ") + ".");
      readout(table, [
        ["scores", config.scores.map(function (s) { return fixed(s, 2); }).join(", "), "scores"],
        ["weights", w.map(function (p) { return fixed(p, 3); }).join(", "), "weights", true],
        ["largest weight", fixed(Math.max.apply(null, w), 3), "max_weight"],
        ["entropy (nats)", fixed(h, 3) + " (uniform: " + fixed(Math.log(n), 3) + ")", "entropy"],
      ]);
      root.dispatchEvent(new CustomEvent("dotlab:update", { detail: { temperature: t, weights: w, entropy: h } }));
    };
    controls.appendChild(slider({
      name: "log10_temperature", label: "temperature τ", min: Math.log10(config.t_min), max: Math.log10(config.t_max),
      step: "any", value: mid, format: function (i) { return fixed(tau(i), 2); },
    }, update));
    root.appendChild(el("div", { "data-role": "display" }, [
      controls, el("div", { "class": "dotlab-picture dotlab-wide" }, [svg]), table]));
    update();
  }

  // -- component: precomputed pictures switched by controls ----------------------------

  // Pictures drawn for both themes (frames with a "dark" picture) come as two images,
  // and the stylesheet shows the one of the reader's theme (STYLE: .dotlab-dark), so a
  // switch of theme needs no script. In the book, the theme's own only-light/only-dark
  // classes also keep it from dimming the dark picture and boxing it in white.
  function precomputed(root, config) {
    var img = el("img", { "data-role": "picture" });
    var pictures = [img];
    var anyKey = Object.keys(config.frames)[0];
    if (config.frames[anyKey].dark) {
      img.className = "dotlab-light only-light";
      pictures.push(el("img", { "data-role": "picture", "class": "dotlab-dark only-dark" }));
    }
    if (config.width) {  // the size the pictures were drawn for, or the column's if narrower
      pictures.forEach(function (p) {
        p.style.width = config.width + "px";
        p.style.maxWidth = "100%";
        p.style.setProperty("--drawn", config.width + "px");
      });
    }
    var table = el("div", { "class": "dotlab-readout", "aria-live": "polite" });
    var controls = el("div", { "class": "dotlab-controls dotlab-row-controls" });
    var inputs = [];
    var update = function () {
      var key = inputs.map(function (get) { return get(); }).join("|");
      var frame = config.frames[key];
      img.src = frame.src;
      if (pictures.length > 1) pictures[1].src = frame.dark;
      pictures.forEach(function (p) { p.alt = frame.alt; });
      table.innerHTML = frame.readout || "";
      root.dispatchEvent(new CustomEvent("dotlab:update", { detail: { key: key } }));
    };
    config.choices.forEach(function (c) {
      if (c.kind === "toggle") {
        controls.appendChild(checkbox({ name: c.name, label: c.label, value: c.value === 1 }, update));
        var box = controls.lastChild.querySelector("input");
        inputs.push(function () { return box.checked ? "1" : "0"; });
      } else {
        controls.appendChild(slider({ name: c.name, label: c.label, min: 0, max: c.labels.length - 1, step: 1, value: c.value,
          format: function (i) { return c.labels[parseInt(i.value, 10)]; } }, update));
        var range = controls.lastChild.querySelector("input");
        inputs.push(function () { return range.value; });
      }
    });
    root.appendChild(el("div", { "data-role": "display" },
      [controls, el("div", { "class": "dotlab-picture dotlab-wide" }, pictures), table]));
    update();
  }

  // -- mounting -----------------------------------------------------------------------

  var COMPONENTS = { "vector-explorer": vectorExplorer, "softmax-temperature": softmaxExplorer, "precomputed": precomputed };

  var STYLE = [
    ".dotlab-widget{margin:1em 0;padding:.8em;border:1px solid var(--pst-color-border,#ccc);border-radius:6px;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere}",
    ".dotlab-layout{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:center}",
    ".dotlab-controls{flex:1 1 17em;min-width:0}",
    ".dotlab-row-controls{display:flex;flex-wrap:wrap;gap:.3em 2em;align-items:center}",
    ".dotlab-control{display:grid;grid-template-columns:minmax(6.5em,max-content) minmax(5em,1fr) 3.2em;align-items:center;gap:0 .6em;margin:.3em 0}",
    ".dotlab-check{display:flex}",
    ".dotlab-control input[type=range]{width:100%;margin:0}",
    ".dotlab-control output{font-variant-numeric:tabular-nums;text-align:right}",
    ".dotlab-readout{font-family:var(--pst-font-family-monospace,monospace);font-size:.85em;margin-top:.6em}",
    ".dotlab-row{display:flex;flex-wrap:wrap;gap:0 1em;margin:.1em 0}",
    ".dotlab-key{flex:0 0 18em;max-width:100%;opacity:.75}",
    ".dotlab-picture{flex:0 1 320px;max-width:100%;margin:0 auto}",  // text: currentColor, as the output around it
    ".dotlab-picture svg,.dotlab-picture img{width:100%;height:auto;display:block}",
    ".dotlab-wide{max-width:640px;margin:.5em 0}",
    // The book's dark theme (pydata-sphinx-theme) and JupyterLab's dark themes.
    ".dotlab-picture img.dotlab-dark{display:none}",
  ].concat(Object.keys(DARK).map(function (light) {
    var dark = "html[data-theme=dark] .dotlab-widget [ATTR=\"" + light + "\"],body[data-jp-theme-light=false] .dotlab-widget [ATTR=\"" + light + "\"]";
    return dark.replace(/ATTR/g, "fill") + "{fill:" + DARK[light] + "}" +
      dark.replace(/ATTR/g, "stroke") + "{stroke:" + DARK[light] + "}";
  })).concat([
    "html[data-theme=dark] .dotlab-picture img.dotlab-dark,body[data-jp-theme-light=false] .dotlab-picture img.dotlab-dark{display:block}",
    "html[data-theme=dark] .dotlab-picture img.dotlab-light,body[data-jp-theme-light=false] .dotlab-picture img.dotlab-light{display:none}",
  ]).join("\n");

  /** A focused control keeps its keys (arrows, Home/End, Page Up/Down) in JupyterLab.
   *
   * There the notebook's own shortcuts would take them (an arrow key collapses the
   * section the explorer sits in). Lumino runs no shortcut for a key pressed inside an
   * element marked data-lm-suppress-shortcuts; stopping the event as well covers front
   * ends that listen while it bubbles. In the book nothing listens: no change there.
   */
  function keepKeys(root) {
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.addEventListener("keydown", function (event) {
      if (/^(INPUT|SELECT|BUTTON|TEXTAREA)$/.test(event.target.tagName)) event.stopPropagation();
    });
  }

  function mountAll() {
    if (!document.getElementById("dotlab-widgets-style-" + VERSION)) {
      var style = el("style", { id: "dotlab-widgets-style-" + VERSION }, [STYLE]);
      document.head.appendChild(style);
    }
    document.querySelectorAll(".dotlab-widget:not([data-mounted])").forEach(function (root) {
      var make = COMPONENTS[root.dataset.component];
      var config = JSON.parse(root.querySelector("script[type='application/json']").textContent);
      root.setAttribute("data-mounted", "");
      keepKeys(root);
      root.querySelectorAll(".dotlab-fallback").forEach(function (n) { n.remove(); });
      if (!make) throw new Error("dotlab: no component named " + root.dataset.component);
      make(root, config);
    });
  }

  window.dotlabWidgets = {
    version: VERSION, mountAll: mountAll, components: COMPONENTS,
    explorerFrame: explorerFrame, softmax: softmax, entropy: entropy, pyMod: pyMod, fixed: fixed,
  };
  // The div comes before this script, so it can be mounted now; the listener catches
  // any explorer a page's parser has not reached yet.
  mountAll();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
})();
