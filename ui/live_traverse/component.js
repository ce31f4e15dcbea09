// A Streamlit component (plain postMessage protocol, no build step): one slider per latent
// dimension (or one over an interpolation path) and a canvas that is decoded in the browser
// on every input event while dragging. On release it reports the latent vector (or the
// path step) to Python.
(function () {
  "use strict";
  const send = (type, extra) => window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra), "*");
  const sliders = document.getElementById("sliders");
  const canvas = document.getElementById("image");
  const offscreen = document.createElement("canvas");
  let model = null, modelId = null, layoutKey = null, lastArgsZ = null, args = null;
  let z = [], pending = false;
  window.__decodeTimes = [];  // milliseconds per decode, read by bench/live_decode_speed.py
  window.__frames = [];       // performance.now() of each drawn frame
  window.__draws = 0;

  function draw() {
    pending = false;
    const started = performance.now();
    const image = VAEDecoder.decode(model, z, args.label);
    window.__decodeTimes.push(performance.now() - started);
    const [c, h, w] = image.shape;
    offscreen.width = w; offscreen.height = h;
    const context = offscreen.getContext("2d");
    const pixels = context.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let ch = 0; ch < 3; ch++) {
        pixels.data[4 * i + ch] = Math.round(255 * image.data[(c === 3 ? ch : 0) * h * w + i]);
      }
      pixels.data[4 * i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
    const target = canvas.getContext("2d");
    target.imageSmoothingEnabled = false;
    target.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
    window.__frames.push(performance.now());
    window.__draws += 1;
    canvas.dataset.draws = String(window.__draws);
  }

  function schedule() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }

  // Path mode (the interpolation scrubber): one slider over the path's steps, moving
  // continuously between them; z is the straight line between the two nearest steps.
  function pointOnPath(t) {
    const path = args.path, last = path.length - 1;
    const i = Math.min(Math.floor(t), last - 1), f = t - i;
    return path[i].map((v, d) => (1 - f) * v + f * path[i + 1][d]);
  }

  function buildScrubber() {
    sliders.innerHTML = "";
    const row = document.createElement("div");
    row.className = "row";
    const label = document.createElement("label");
    label.textContent = "Step";
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: 0, max: args.path.length - 1, step: 0.01, value: args.step });
    input.setAttribute("aria-label", "Step");
    const out = document.createElement("output");
    out.textContent = Number(args.step).toFixed(2);
    input.addEventListener("input", () => { const t = Number(input.value); z = pointOnPath(t); out.textContent = t.toFixed(2); schedule(); });
    input.addEventListener("change", () => {
      const step = Math.round(Number(input.value));
      input.value = step; out.textContent = step.toFixed(2); z = args.path[step].slice(); schedule();
      send("streamlit:setComponentValue", { value: { step: step, nonce: Date.now() }, dataType: "json" });
    });
    row.append(label, input, out);
    sliders.append(row);
  }

  function build() {
    if (args.path) { buildScrubber(); return; }
    sliders.innerHTML = "";
    for (const d of args.order) {
      const row = document.createElement("div");
      row.className = "row" + (args.inactive.includes(d) ? " inactive" : "");
      const label = document.createElement("label");
      label.textContent = args.labels[d];
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: args.low[d], max: args.high[d], step: args.step[d], value: z[d] });
      input.dataset.dim = String(d);
      input.setAttribute("aria-label", args.labels[d]);
      const out = document.createElement("output");
      out.textContent = Number(z[d]).toFixed(2);
      input.addEventListener("input", () => { z[d] = Number(input.value); out.textContent = z[d].toFixed(2); schedule(); });
      input.addEventListener("change", () => send("streamlit:setComponentValue", { value: { z: z.slice(), nonce: Date.now() }, dataType: "json" }));
      row.append(label, input, out);
      sliders.append(row);
    }
  }

  function render(newArgs) {
    args = newArgs;
    if (args.spec_id !== modelId) { model = VAEDecoder.prepare(args.spec); modelId = args.spec_id; }
    if (args.path) args.z = args.path[args.step];
    const key = JSON.stringify([args.spec_id, args.order, args.low, args.high, args.path]);
    const argsZ = JSON.stringify(args.z);
    if (argsZ !== lastArgsZ) { z = args.z.slice(); lastArgsZ = argsZ; layoutKey = null; }  // a new start from Python
    if (key !== layoutKey) { build(); layoutKey = key; }
    canvas.width = canvas.height = args.size;
    draw();
    send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 8 });
  }

  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "streamlit:render") render(event.data.args);
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
