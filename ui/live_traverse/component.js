// A Streamlit component (plain postMessage protocol, no build step): one slider per latent
// dimension (or one over an interpolation path) and a canvas decoded in the browser on every
// input event while dragging, by the model's ONNX decoder graph in onnxruntime-web (WASM).
// On release it reports the latent vector (or the path step) to Python. The graph is fetched
// once per model from its content-named URL (kept in the Cache API where the page allows it);
// Python sends only the URL with each rerun.
(function () {
  "use strict";
  const send = (type, extra) => window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra), "*");
  const sliders = document.getElementById("sliders");
  const canvas = document.getElementById("image");
  const note = document.getElementById("note");
  const offscreen = document.createElement("canvas");
  let session = null, sessionUrl = null, loading = null, layoutKey = null, lastArgsZ = null, args = null;
  let z = [], busy = false, dirty = false, failed = false;
  window.__decodeTimes = [];  // milliseconds per decode, read by the bench
  window.__frames = [];       // performance.now() of each drawn frame
  window.__draws = 0;

  // No WebAssembly (an old or locked-down browser): the runtime may not even load; Python is
  // told on the first render and switches to server-side decoding.
  const runtime = typeof WebAssembly === "object" && typeof ort === "object" ? ort : null;
  if (runtime) {
    runtime.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;  // a bare "ort/" would be a module specifier
    runtime.env.wasm.proxy = false;
    // Threads need SharedArrayBuffer, which only a cross-origin-isolated page has.
    runtime.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  }

  async function cachedBytes(url) {
    // Content-named files never change: serve them from the Cache API when it exists (secure
    // contexts: https or localhost), else from the network.
    if (self.caches) {
      try {
        const cache = await caches.open("vae-latent-explorer");
        let response = await cache.match(url);
        if (!response) {
          response = await fetch(url);
          if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
          await cache.put(url, response.clone());
        }
        return await response.arrayBuffer();
      } catch (error) {
        if (String(error).includes("HTTP")) throw error;
      }
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return await response.arrayBuffer();
  }

  function unavailable(reason) {
    failed = true;
    note.textContent = "browser decoding unavailable: " + reason;
    send("streamlit:setComponentValue", { value: { unavailable: String(reason), nonce: Date.now() }, dataType: "json" });
  }

  function openSession(url) {
    if (!runtime) return Promise.reject(new Error("this browser has no WebAssembly"));
    return cachedBytes(url).then((bytes) =>
      runtime.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
  }

  function paint(image) {
    const [, c, h, w] = image.dims;
    const data = image.data;
    const [low, high] = args.pixel_range || [0, 1];  // a bundle's decoder may output e.g. [-1, 1]
    const scale = 255 / (high - low);
    offscreen.width = w; offscreen.height = h;
    const context = offscreen.getContext("2d");
    const pixels = context.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let ch = 0; ch < 3; ch++) {
        pixels.data[4 * i + ch] = Math.round(scale * (data[(c === 3 ? ch : 0) * h * w + i] - low));  // clamped by the array
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

  async function pump() {
    // One decode at a time; moves that arrive meanwhile collapse into the latest vector.
    busy = true;
    try {
      while (dirty && session) {
        dirty = false;
        const feeds = { z: new runtime.Tensor("float32", Float32Array.from(z), [1, z.length]) };
        if (args.conditional) feeds.label = new runtime.Tensor("int64", BigInt64Array.from([BigInt(args.label)]), [1]);
        const started = performance.now();
        const output = await session.run(feeds);
        window.__decodeTimes.push(performance.now() - started);
        paint(output.image);
      }
    } catch (error) {
      unavailable(error.message || error);
    } finally {
      busy = false;
    }
  }

  function schedule() {
    dirty = true;
    if (!busy) pump();
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
    if (args.path) args.z = args.path[args.step];
    const key = JSON.stringify([args.graph, args.order, args.low, args.high, args.path]);
    const argsZ = JSON.stringify(args.z);
    if (argsZ !== lastArgsZ) { z = args.z.slice(); lastArgsZ = argsZ; layoutKey = null; }  // a new start from Python
    if (key !== layoutKey) { build(); layoutKey = key; }
    canvas.width = canvas.height = args.size;
    send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 8 });
    if (failed) return;
    if (args.graph !== sessionUrl) {
      sessionUrl = args.graph;
      session = null;
      const url = args.graph;
      note.textContent = "loading the decoder…";
      loading = openSession(url).then((ready) => {
        if (url !== sessionUrl) return;  // another model was chosen meanwhile
        session = ready;
        note.textContent = "decoded in the browser (onnxruntime-web)";
        schedule();
      }, (error) => unavailable(error.message || error));
    }
    schedule();
  }

  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "streamlit:render") render(event.data.args);
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
