// The script of minigrad.viz.to_html's page: pan and zoom, node details, and the replay of a
// traced backward pass. The graph itself is already drawn (SVG written by Python); this reads
// the JSON in #graph-data (described in minigrad/viz/html.py) and adds behaviour.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const svg = document.getElementById("graph");
  const viewport = document.getElementById("viewport");
  const panel = document.getElementById("panel");
  const statusLine = document.getElementById("status");
  const nodes = data.nodes;
  const steps = data.steps || [];
  const graphNodes = nodes.filter((n) => n.kind !== "output").length; // outputs come last
  const nodeEls = [];
  const edgeEls = [];
  svg.querySelectorAll("g.node").forEach((el) => { nodeEls[+el.dataset.node] = el; });
  svg.querySelectorAll("g.edge").forEach((el) => { edgeEls[+el.dataset.edge] = el; });

  // -- numbers as Python prints them with "{:.4g}" ---------------------------------------------

  function g4(x) {
    if (typeof x === "string") return x; // "nan", "inf", "-inf"
    if (x === 0) return Object.is(x, -0) ? "-0" : "0";
    const exponent = parseInt(x.toExponential(3).split("e")[1], 10);
    const strip = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (exponent < -4 || exponent >= 4) {
      const mantissa = strip(x.toExponential(3).split("e")[0]);
      const digits = String(Math.abs(exponent)).padStart(2, "0");
      return `${mantissa}e${exponent < 0 ? "-" : "+"}${digits}`;
    }
    return strip(x.toPrecision(4));
  }

  function element(value, dtype) {
    if (dtype === "bool") return value ? "True" : "False";
    return dtype.startsWith("float") ? g4(value) : String(value);
  }

  function shapeText(shape) {
    return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  }

  function valuesText(t, count) {
    const shown = t.values.slice(0, count).map((v) => element(v, t.dtype));
    return `[${shown.join(", ")}${t.numel > shown.length ? ", \u2026" : ""}]`;
  }

  function tensorText(t) {
    if (!t) return "None";
    if (t.repr !== undefined) return t.repr;
    const norm = t.norm !== undefined ? `  norm ${g4(t.norm)}` : "";
    return `${shapeText(t.shape)} ${t.dtype} ${valuesText(t, 6)}${norm}`;
  }

  // -- pan and zoom ----------------------------------------------------------------------------

  const view = { x: 0, y: 0, k: 1 };
  const READABLE = 0.6; // the least scale at which the boxes' text can be read
  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.k.toFixed(4)})`);
  }
  function zoomAt(px, py, factor) {
    const k = Math.min(4, Math.max(0.02, view.k * factor));
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    applyView();
  }
  function zoomCentre(factor) {
    const r = svg.getBoundingClientRect();
    zoomAt(r.width / 2, r.height / 2, factor);
  }
  function fit() {
    const r = svg.getBoundingClientRect();
    view.k = Math.max(0.02, Math.min(1, r.width / data.width, r.height / data.height));
    view.x = (r.width - data.width * view.k) / 2;
    view.y = Math.max(0, (r.height - data.height * view.k) / 2);
    applyView();
  }
  // The first view: the whole graph when it can be read that way; else the outputs, where the
  // backward pass starts, at a readable scale (the fit button shows it all).
  function start() {
    fit();
    if (view.k >= READABLE) return;
    const r = svg.getBoundingClientRect();
    const box = nodeEls[graphNodes].querySelector("rect");
    view.k = READABLE;
    view.x = r.width / 2 - (+box.getAttribute("x") + +box.getAttribute("width") / 2) * view.k;
    view.y = r.height - 30 - (+box.getAttribute("y") + +box.getAttribute("height")) * view.k;
    applyView();
  }
  function centreOn(i) {
    const box = nodeEls[i].querySelector("rect");
    const r = svg.getBoundingClientRect();
    const cx = +box.getAttribute("x") + +box.getAttribute("width") / 2;
    const cy = +box.getAttribute("y") + +box.getAttribute("height") / 2;
    view.x = r.width / 2 - cx * view.k;
    view.y = r.height / 2 - cy * view.k;
    applyView();
  }
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(event.clientX - r.left, event.clientY - r.top, Math.exp(-event.deltaY * 0.0015));
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest("g.node")) return;
    drag = { x: event.clientX, y: event.clientY };
    svg.classList.add("dragging");
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    view.x += event.clientX - drag.x;
    view.y += event.clientY - drag.y;
    drag = { x: event.clientX, y: event.clientY };
    applyView();
  });
  svg.addEventListener("pointerup", () => { drag = null; svg.classList.remove("dragging"); });
  document.getElementById("zoom-in").addEventListener("click", () => zoomCentre(1.25));
  document.getElementById("zoom-out").addEventListener("click", () => zoomCentre(0.8));
  document.getElementById("fit").addEventListener("click", fit);

  // -- the replay of the backward pass ---------------------------------------------------------

  let position = 0; // steps done: 0 is before backward, steps.length after the last node ran
  let selected = null;
  const stepOf = new Array(nodes.length).fill(-1); // the step at which each node runs
  steps.forEach((step, s) => { stepOf[step.node] = s; });

  // The engine's state after `k` steps: dependency counts left, gradients arrived, nodes run.
  function stateAt(k) {
    const deps = nodes.map((n) => n.deps || 0);
    const arrived = new Array(nodes.length).fill(0);
    for (let s = 0; s < k; s++) {
      const step = steps[s];
      nodes[step.node].next.forEach((edge, i) => {
        if (!edge) return;
        deps[edge[0]] -= 1;
        if (step.out[i]) arrived[edge[0]] += 1;
      });
    }
    const ready = [];
    for (let i = 0; i < graphNodes; i++) {
      if (deps[i] === 0 && !(stepOf[i] >= 0 && stepOf[i] < k)) ready.push(i);
    }
    ready.sort((a, b) => nodes[b].seq - nodes[a].seq); // the engine's order: the newest first
    return { deps, arrived, ready };
  }

  // The gradient along edge e, once its consumer has run (or, for an output, from the start).
  function edgeGradient(e, k) {
    const [tail, head, input, outputNr] = data.edges[e];
    if (head >= graphNodes) {
      const s = stepOf[tail];
      return s >= 0 ? { grad: steps[s].in[outputNr], flowed: true, active: k === 0 } : { flowed: false };
    }
    const s = stepOf[head];
    if (s < 0 || s >= k) return { flowed: false };
    return { grad: steps[s].out[input], flowed: true, active: s === k - 1 };
  }

  function setLabel(el, grad) {
    const title = el.querySelector("title");
    title.textContent = title.textContent.split("\n")[0] + (grad === undefined ? "" : `\ngradient: ${tensorText(grad)}`);
    if (grad === undefined) return;
    const label = el.querySelector(".glabel");
    const x = label.getAttribute("x");
    label.textContent = "";
    const lines = grad ? [["values", valuesText(grad, 2)], ["norm", `norm ${g4(grad.norm)}`]] : [["values", "None"]];
    lines.forEach(([cls, text], i) => {
      const span = document.createElementNS("http://www.w3.org/2000/svg", "tspan");
      span.setAttribute("class", cls);
      span.setAttribute("x", x);
      span.setAttribute("dy", i === 0 ? "-0.2em" : "1.15em");
      span.textContent = text;
      label.appendChild(span);
    });
  }

  const labels = []; // the gradient each edge's label shows now (undefined: none)

  function show(k) {
    position = Math.max(0, Math.min(steps.length, k));
    const state = stateAt(position);
    const ready = new Set(state.ready);
    nodeEls.forEach((el, i) => {
      if (i >= graphNodes) return;
      const s = stepOf[i];
      const done = s >= 0 && s < position;
      el.classList.toggle("done", done);
      el.classList.toggle("current", done && s === position - 1);
      el.classList.toggle("ready", !done && ready.has(i));
      el.classList.toggle("waiting", !done && !ready.has(i));
      let text;
      if (done && nodes[i].kind === "leaf") {
        const grad = steps[s].in[0];
        text = grad ? `.grad norm ${g4(grad.norm)}` : ".grad: None";
      } else if (done) {
        text = `step ${s + 1}`;
      } else if (ready.has(i)) {
        text = "ready";
      } else {
        const more = state.arrived[i] ? ` (${state.arrived[i]} in)` : "";
        text = `waits for ${state.deps[i]}${more}`;
      }
      const badge = el.querySelector(".badge");
      if (badge.textContent !== text) badge.textContent = text;
    });
    edgeEls.forEach((el, e) => {
      const flow = edgeGradient(e, position);
      el.classList.toggle("flowed", flow.flowed);
      el.classList.toggle("active", !!flow.active);
      const label = flow.flowed ? flow.grad : undefined; // what the label should show
      if (labels[e] === label) return;
      labels[e] = label;
      setLabel(el, label);
      if (!flow.flowed) el.querySelector(".glabel").textContent = "";
    });
    const ran = position > 0 ? `: ran ${nodes[steps[position - 1].node].title}` : ": before backward";
    statusLine.textContent = `step ${position} of ${steps.length}${ran} \u00b7 ready ${state.ready.length}`;
    document.getElementById("first").disabled = document.getElementById("back").disabled = position === 0;
    document.getElementById("last").disabled = document.getElementById("forward").disabled = position === steps.length;
    if (selected !== null) showNode(selected);
    else showStep(state);
    try {
      history.replaceState(null, "", `#step=${position}${selected !== null ? `&node=${selected}` : ""}`);
    } catch (error) { /* some browsers refuse it for file:// pages: the address is only a convenience */ }
  }

  // -- the details panel -----------------------------------------------------------------------

  function escape(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }
  function link(i) {
    return `<a data-goto="${i}">${escape(nodes[i].title)}</a>`;
  }
  function tensorItem(label, t) {
    return `<li>${label}<span class="tensor">${escape(tensorText(t))}</span></li>`;
  }

  function showStep(state) {
    const parts = [];
    if (position === 0) {
      parts.push("<h2>before backward</h2><p>Each node waits for as many gradients as edges point at it " +
        "(its dependency count). Among the ready nodes the engine runs the newest first (leaves count as newest).</p>");
    } else {
      const step = steps[position - 1];
      const node = nodes[step.node];
      parts.push(`<h2>step ${position}: ${link(step.node)}</h2><h3>gradients received</h3><ul>`);
      step.in.forEach((g, i) => parts.push(tensorItem(step.in.length > 1 ? `output ${i}: ` : "", g)));
      parts.push("</ul>");
      if (node.next.length) {
        parts.push("<h3>gradients sent</h3><ul>");
        node.next.forEach((edge, i) => {
          if (edge) parts.push(tensorItem(`to ${link(edge[0])}: `, step.out[i]));
        });
        parts.push("</ul>");
      }
    }
    parts.push(`<h3>ready (${state.ready.length}), in the order the engine runs them</h3><ul>`);
    state.ready.forEach((i) => parts.push(`<li>${link(i)}</li>`));
    parts.push("</ul>");
    const waiting = [];
    for (let i = 0; i < graphNodes; i++) {
      if (state.deps[i] > 0) waiting.push(`<li>${link(i)}: waits for ${state.deps[i]}</li>`);
    }
    parts.push(`<h3>waiting (${waiting.length})</h3><ul>${waiting.slice(0, 50).join("")}</ul>`);
    panel.innerHTML = parts.join("");
  }

  function showNode(i) {
    const node = nodes[i];
    const parts = [`<h2>${escape(node.title)}</h2>`];
    if (node.kind === "output") {
      parts.push("<p>An output you asked to draw; its gradient starts the backward pass.</p>");
      panel.innerHTML = parts.join("");
      return;
    }
    if (node.kind === "op") {
      parts.push(`<p>creation order ${node.seq + 1} of ${graphNodes}: of the ready nodes the engine runs the latest made first</p>`);
    }
    parts.push(`<h3>${node.kind === "leaf" ? "AccumulateGrad" : "backward of"}</h3><pre>${escape(node.doc)}</pre>`);
    parts.push("<h3>forward value</h3><ul>");
    if (node.value) node.value.forEach((t, k) => parts.push(tensorItem(node.value.length > 1 ? `output ${k}: ` : "", t)));
    else parts.push("<li>not recorded (make the graph inside viz.record_forward())</li>");
    parts.push("</ul>");
    if (node.kind === "leaf") {
      parts.push(`<h3>.grad now</h3><ul>${tensorItem("", node.grad)}</ul>`);
    } else if (typeof node.saved === "string") {
      parts.push(`<h3>saved tensors</h3><p>${escape(node.saved)}</p>`);
    } else {
      parts.push("<h3>saved tensors</h3><ul>");
      node.saved.forEach((t) => parts.push(tensorItem("", t)));
      parts.push(node.saved.length ? "</ul>" : "<li>none</li></ul>");
    }
    if (node.kind === "op") {
      parts.push("<h3>next_functions</h3><ul>");
      node.next.forEach((edge, k) => {
        parts.push(edge ? `<li>${k}: ${link(edge[0])}, output ${edge[1]}</li>` : `<li>${k}: None (no gradient needed)</li>`);
      });
      parts.push("</ul>");
    }
    if (data.steps) {
      const s = stepOf[i];
      parts.push("<h3>in the backward pass</h3>");
      if (s < 0) {
        parts.push("<p>not run by the traced pass</p>");
      } else if (s >= position) {
        const state = stateAt(position);
        parts.push(`<p>runs at step ${s + 1}; now waits for ${state.deps[i]} of ${node.deps} gradients</p>`);
      } else {
        const step = steps[s];
        parts.push(`<p>ran at step ${s + 1}</p><ul>`);
        step.in.forEach((g, k) => parts.push(tensorItem(`received${step.in.length > 1 ? ` (output ${k})` : ""}: `, g)));
        node.next.forEach((edge, k) => {
          if (edge) parts.push(tensorItem(`sent to ${link(edge[0])}: `, step.out[k]));
        });
        parts.push("</ul>");
      }
    }
    panel.innerHTML = parts.join("");
  }

  function select(i) {
    if (selected !== null) nodeEls[selected].classList.remove("selected");
    selected = i;
    if (i !== null) nodeEls[i].classList.add("selected");
    if (data.steps) show(position);
    else if (i !== null) showNode(i);
    else panel.innerHTML = "";
  }

  svg.addEventListener("click", (event) => {
    const el = event.target.closest("g.node");
    select(el ? +el.dataset.node : null);
  });
  panel.addEventListener("click", (event) => {
    const a = event.target.closest("a[data-goto]");
    if (!a) return;
    select(+a.dataset.goto);
    centreOn(selected);
  });

  // -- controls and keyboard -------------------------------------------------------------------

  const controls = {
    first: () => show(0), back: () => show(position - 1), forward: () => show(position + 1), last: () => show(steps.length),
  };
  Object.entries(controls).forEach(([id, action]) => document.getElementById(id).addEventListener("click", action));
  const keys = {
    ArrowRight: controls.forward, " ": controls.forward, n: controls.forward,
    ArrowLeft: controls.back, p: controls.back, Home: controls.first, End: controls.last,
    "+": () => zoomCentre(1.25), "=": () => zoomCentre(1.25), "-": () => zoomCentre(0.8), 0: fit, f: fit,
    Escape: () => select(null),
  };
  document.addEventListener("keydown", (event) => {
    const action = keys[event.key];
    if (!action || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!data.steps && ["ArrowRight", " ", "n", "ArrowLeft", "p", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    action();
  });

  // -- start: the state named in the address (#step=3&node=5), fitted to the window ------------

  const wanted = new URLSearchParams(location.hash.slice(1));
  if (data.steps) document.getElementById("controls").hidden = false;
  start();
  if (wanted.has("node") && nodeEls[+wanted.get("node")]) {
    selected = +wanted.get("node");
    nodeEls[selected].classList.add("selected");
    if (view.k === READABLE) centreOn(selected);
  }
  if (data.steps) show(+wanted.get("step") || 0);
  else if (selected !== null) showNode(selected);
  window.minigradViz = { show, select, fit, start, position: () => position, steps: steps.length };
})();
