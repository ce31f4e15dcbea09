// A Streamlit component (plain postMessage protocol, no build step) that decodes latent vectors
// in the browser on every input event, with the model's ONNX decoder graph in onnxruntime-web
// (WASM). Pages pass data, not code; one of five modes:
//   sliders  one slider per latent dimension (Traverse); on release the vector goes to Python.
//            A hierarchical model's sliders come in `groups` (one header per level, the top
//            first); with `follow`, moving a slider sets every later group to 0 (its levels'
//            conditional prior means) while dragging
//   path     one slider over an interpolation path (Interpolate's scrubber); on release, the step
//   mix      z = base + Σ w_i v_i with a slider per weight (Arithmetic); on release, the weights
//   grid     a grid of prior samples T·z_i under a temperature slider (Generate); on release, T
//   map      follows the mouse over the page's 2-D Plotly map: the code under the cursor (the
//            inverse the server uses for a click) decoded beside it, with its distance to the data
// The graph is fetched once per model from its content-named URL (kept in the Cache API where
// the page allows it); Python sends only the URL with each rerun. A text model's graph outputs
// token ids instead of an image: with the vocabulary (a JSON list of words, fetched once from its
// own content-named URL) they are shown as sentences (text.js) where an image would be drawn.
(function () {
  "use strict";
  const send = (type, extra) => window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra), "*");
  const report = (value) => send("streamlit:setComponentValue", { value: Object.assign({ nonce: Date.now() }, value), dataType: "json" });
  const sliders = document.getElementById("sliders");
  const canvas = document.getElementById("image");
  const text = document.getElementById("sentences");
  const note = document.getElementById("note");
  const reading = document.getElementById("reading");
  const nonfinite = document.getElementById("nonfinite");
  const offscreen = document.createElement("canvas");
  let session = null, sessionUrl = null, layoutKey = null, lastArgsZ = null, args = null, words = null;
  let z = [], busy = false, dirty = false, failed = false, pendingEvent = null;
  window.__decodeTimes = [];  // milliseconds per decode, read by the bench
  window.__frames = [];       // performance.now() of each drawn frame
  window.__hoverLatencies = [];  // map mode: mouse event (its time stamp) -> frame drawn, ms
  window.__hoverWork = [];       // map mode: our handler starts -> frame drawn, ms
  window.__draws = 0;
  window.__lastDecoded = null;  // text: the last batch decoded, {z: float32 values, ids, sentences}

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
    report({ unavailable: String(reason) });
  }

  function openSession(url, vocabularyUrl) {
    if (!runtime) return Promise.reject(new Error("this browser has no WebAssembly"));
    const vocabulary = vocabularyUrl
      ? cachedBytes(vocabularyUrl).then((bytes) => JSON.parse(new TextDecoder().decode(bytes)))
      : Promise.resolve(null);
    const opened = cachedBytes(url).then((bytes) =>
      runtime.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
    return Promise.all([opened, vocabulary]);
  }

  // -- what to decode now: a batch of codes (one, or the grid's) -----------------------------
  function codesNow() {
    if (args.grid) {
      const t = args.grid.temperature;
      return { codes: args.grid.codes.map((c) => c.map((v) => t * v)), labels: args.grid.labels };
    }
    return { codes: [z], labels: null };
  }

  // A decoder may return NaN or ±inf for some codes: a typed-array store would make those pixels
  // black (NaN -> 0) or white without a word. Such pixels are drawn as a magenta-and-black
  // checkerboard (as vae/pictures.py draws them), the frame gets a red outline and a label, and
  // the caption under the canvas says so; canvas.dataset.nonfinite counts the frames.
  const MARK = [255, 0, 255];
  function paint(image, columns) {
    const [n, c, h, w] = image.dims;
    const data = image.data;
    const [low, high] = args.pixel_range || [0, 1];  // a bundle's decoder may output e.g. [-1, 1]
    const scale = 255 / (high - low);
    const rows = Math.ceil(n / columns), gap = n > 1 ? 1 : 0;
    offscreen.width = columns * (w + gap) - gap; offscreen.height = rows * (h + gap) - gap;
    const context = offscreen.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, offscreen.width, offscreen.height);
    const bad = [];  // the frames with a pixel that is not finite
    for (let k = 0; k < n; k++) {
      const pixels = context.createImageData(w, h), base = k * c * h * w;
      let finite = true;
      for (let i = 0; i < h * w; i++) {
        for (let ch = 0; ch < 3; ch++) {
          const v = data[base + (c === 3 ? ch : 0) * h * w + i];
          if (v - v !== 0) {  // NaN or ±inf (cheaper than Number.isFinite in this loop)
            finite = false;
            const x = i % w, y = (i - x) / w, on = (x + y) % 2 === 0;
            for (let m = 0; m < 3; m++) pixels.data[4 * i + m] = on ? MARK[m] : 0;
            break;
          }
          pixels.data[4 * i + ch] = Math.round(scale * (v - low));  // clamped by the array
        }
        pixels.data[4 * i + 3] = 255;
      }
      if (!finite) bad.push(k);
      context.putImageData(pixels, (k % columns) * (w + gap), Math.floor(k / columns) * (h + gap));
    }
    const target = canvas.getContext("2d");
    if (args.grid) canvas.height = Math.round(canvas.width * offscreen.height / offscreen.width);
    target.imageSmoothingEnabled = false;
    target.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
    markNonFinite(target, bad, n, columns, (w + gap) * canvas.width / offscreen.width, (h + gap) * canvas.height / offscreen.height);
    const height = document.body.scrollHeight + 8;
    if (height !== paint.height) { paint.height = height; send("streamlit:setFrameHeight", { height: height }); }
    window.__frames.push(performance.now());
    window.__draws += 1;
    canvas.dataset.draws = String(window.__draws);
  }

  function markNonFinite(target, bad, n, columns, tileWidth, tileHeight) {
    canvas.dataset.nonfinite = String(bad.length);
    nonfinite.textContent = !bad.length ? "" : n === 1 ? "decoder returned NaN/inf for this code"
      : `decoder returned NaN/inf for ${bad.length} of ${n} codes`;
    target.lineWidth = 3;
    target.strokeStyle = "#ff2b2b";
    target.font = "bold 13px sans-serif";
    target.textBaseline = "top";
    for (const k of bad) {
      const x = (k % columns) * tileWidth, y = Math.floor(k / columns) * tileHeight;
      target.strokeRect(x + 1.5, y + 1.5, Math.min(tileWidth, canvas.width - x) - 3, Math.min(tileHeight, canvas.height - y) - 3);
      if (tileWidth >= 60) {
        target.fillStyle = "#ff2b2b";
        target.fillRect(x + 3, y + 3, 56, 18);
        target.fillStyle = "#ffffff";
        target.fillText("NaN/inf", x + 7, y + 6);
      }
    }
  }

  // A text model: the sentence of each code as text (the grid's as a numbered list).
  function show(ids, flat) {
    const shown = liveText.sentences(ids.data, ids.dims, words);
    const line = (sentence, tag) => Object.assign(document.createElement(tag), { className: "sentence", textContent: sentence });
    if (shown.length === 1) {
      text.replaceChildren(line(shown[0], "div"));
    } else {
      const list = document.createElement("ol");
      list.append(...shown.map((sentence) => line(sentence, "li")));
      text.replaceChildren(list);
    }
    window.__lastDecoded = { z: Array.from(flat), ids: Array.from(ids.data), sentences: shown };
    const height = document.body.scrollHeight + 8;
    if (height !== paint.height) { paint.height = height; send("streamlit:setFrameHeight", { height: height }); }
    window.__frames.push(performance.now());
    window.__draws += 1;
    text.dataset.draws = String(window.__draws);
  }

  async function pump() {
    // One decode at a time; moves that arrive meanwhile collapse into the latest state.
    busy = true;
    try {
      while (dirty && session) {
        dirty = false;
        const event = pendingEvent;
        pendingEvent = null;
        const { codes, labels } = codesNow();
        const d = codes[0].length;
        const flat = new Float32Array(codes.length * d);
        codes.forEach((code, i) => flat.set(code, i * d));
        const feeds = { z: new runtime.Tensor("float32", flat, [codes.length, d]) };
        if (args.conditional) {
          const each = labels || codes.map(() => args.label);
          feeds.label = new runtime.Tensor("int64", BigInt64Array.from(each.map((v) => BigInt(v))), [codes.length]);
        }
        const started = performance.now();
        const output = await session.run(feeds);
        window.__decodeTimes.push(performance.now() - started);
        if (output.ids) show(output.ids, flat);
        else paint(output.image, args.grid ? args.grid.columns : 1);
        if (event !== null) {
          const now = performance.timeOrigin + performance.now();
          window.__hoverLatencies.push(now - event.stamp);
          window.__hoverWork.push(now - event.handled);
        }
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

  function sliderRow(labelText, attributes, onInput, onChange, inactive) {
    const row = document.createElement("div");
    row.className = "row" + (inactive ? " inactive" : "");
    const label = document.createElement("label");
    label.textContent = labelText;
    const input = document.createElement("input");
    Object.assign(input, Object.assign({ type: "range" }, attributes));
    input.setAttribute("aria-label", labelText);
    const out = document.createElement("output");
    out.textContent = Number(attributes.value).toFixed(2);
    input.addEventListener("input", () => { out.textContent = Number(input.value).toFixed(2); onInput(Number(input.value), input); schedule(); });
    if (onChange) input.addEventListener("change", () => onChange(Number(input.value), input, out));
    row.append(label, input, out);
    sliders.append(row);
    return input;
  }

  // -- modes --------------------------------------------------------------------------------
  function pointOnPath(t) {
    const path = args.path, last = path.length - 1;
    const i = Math.min(Math.floor(t), last - 1), f = t - i;
    return path[i].map((v, d) => (1 - f) * v + f * path[i + 1][d]);
  }

  function mixed(weights) {
    const mix = args.mix;
    return mix.base.map((b, d) => b + mix.vectors.reduce((sum, v, i) => sum + weights[i] * v[d], 0));
  }

  function build() {
    sliders.innerHTML = "";
    if (args.path) {
      sliderRow("Step", { min: 0, max: args.path.length - 1, step: 0.01, value: args.step },
        (t) => { z = pointOnPath(t); },
        (t, input, out) => { const step = Math.round(t); input.value = step; out.textContent = step.toFixed(2); z = args.path[step].slice(); schedule(); report({ step: step }); });
    } else if (args.mix) {
      const mix = args.mix, weights = mix.values.slice();
      z = mixed(weights);
      mix.names.forEach((name, i) => sliderRow(name, { min: mix.low[i], max: mix.high[i], step: 0.01, value: weights[i] },
        (w) => { weights[i] = w; z = mixed(weights); },
        () => report({ weights: weights.slice(), z: z.slice() })));
    } else if (args.grid) {
      const t = args.grid;
      sliderRow("Temperature", { min: t.low, max: t.high, step: 0.01, value: t.temperature },
        (value) => { args.grid.temperature = value; },
        (value) => report({ temperature: value }));
    } else if (args.map) {
      sliders.style.display = "none";
      z = args.map.mu[0].slice();  // a new map (or model): start from its first code
    } else {
      const groups = args.groups || [{ name: null, dims: args.order }];
      const inputs = {};
      groups.forEach((group, g) => {
        if (group.name !== null) {
          const header = document.createElement("div");
          header.className = "level";
          header.textContent = group.name;
          header.dataset.level = String(g);
          sliders.append(header);
        }
        for (const d of group.dims) {
          const input = sliderRow(args.labels[d], { min: args.low[d], max: args.high[d], step: args.step[d], value: z[d] },
            (value) => { z[d] = value; if (args.follow) followBelow(groups.slice(g + 1), inputs); },
            () => report({ z: z.slice() }), args.inactive.includes(d));
          input.dataset.dim = String(d);
          input.dataset.level = String(g);
          inputs[d] = input;
        }
      });
    }
  }

  // The levels below a moved one at their conditional prior means: standardised codes at 0
  // (within each slider's range), their sliders moved to show it.
  function followBelow(lower, inputs) {
    for (const group of lower) {
      for (const d of group.dims) {
        z[d] = Math.min(Math.max(0, args.low[d]), args.high[d]);
        inputs[d].value = z[d];
        inputs[d].nextElementSibling.textContent = z[d].toFixed(2);
      }
    }
  }

  // Map mode: the inverse of the map, as the server computes it (vae.latent.projection).
  function inverse(x, y) {
    const map = args.map;
    if (map.pca) {
      const { mean, components } = map.pca;
      return mean.map((m, d) => m + x * components[0][d] + (components.length > 1 ? y * components[1][d] : 0));
    }
    const { index, distances } = nearest(x, y, map.k);
    const weights = distances.map((dist) => 1 / Math.max(dist, 1e-12) ** 2);
    const total = weights.reduce((a, b) => a + b, 0);
    return map.mu[0].map((_, d) => index.reduce((sum, i, j) => sum + (weights[j] / total) * map.mu[i][d], 0));
  }

  function nearest(x, y, k) {
    const points = args.map.points, best = [];  // k smallest (distance, index), sorted
    for (let i = 0; i < points.length; i++) {
      const dx = points[i][0] - x, dy = points[i][1] - y, dist = Math.sqrt(dx * dx + dy * dy);
      if (best.length < k || dist < best[best.length - 1][0]) {
        best.push([dist, i]);
        best.sort((a, b) => a[0] - b[0]);
        if (best.length > k) best.pop();
      }
    }
    return { index: best.map((b) => b[1]), distances: best.map((b) => b[0]) };
  }
  window.__inverse = (x, y) => inverse(x, y);  // for the bench's check against the server

  function describe(distance) {
    const [near, between] = args.map.thresholds;
    const words = distance < near ? args.map.readings[0] : distance < between ? args.map.readings[1] : args.map.readings[2];
    return `${distance.toFixed(1)}× the typical spacing from the nearest ${args.vocabulary ? "sentence" : "image"}: ${words}.`;
  }

  const watched = new WeakSet();
  function watchMap() {
    // The map is a Plotly chart on the page around this frame (same origin): follow the mouse
    // over its plotting area, in data coordinates. Reruns may replace the chart: look again.
    let plots = [];
    try { plots = [...window.parent.document.querySelectorAll(".js-plotly-plot")]; } catch (error) { return; }
    for (const gd of plots) {
      if (watched.has(gd)) continue;
      watched.add(gd);
      gd.addEventListener("mousemove", (event) => {
        if (!args || !args.map || !gd._fullLayout || !gd._fullLayout.xaxis) return;
        const handled = performance.timeOrigin + performance.now();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        const px = event.clientX - box.left - xa._offset, py = event.clientY - box.top - ya._offset;
        if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
        const x = xa.p2d(px), y = ya.p2d(py);
        z = inverse(x, y);
        const distance = nearest(x, y, 1).distances[0] / args.map.spacing;
        reading.textContent = `(${x.toFixed(2)}, ${y.toFixed(2)}): ` + describe(distance);
        pendingEvent = { stamp: window.parent.performance.timeOrigin + event.timeStamp, handled: handled };
        schedule();
      });
    }
  }

  function render(newArgs) {
    args = newArgs;
    if (args.path) args.z = args.path[args.step];
    if (args.mix) args.z = mixed(args.mix.values);
    const key = JSON.stringify([args.graph, args.order, args.groups, args.follow, args.low, args.high, args.path, args.mix, args.grid && args.grid.codes, !!args.map]);
    const argsZ = JSON.stringify(args.z || null);
    if (argsZ !== lastArgsZ) { z = (args.z || []).slice(); lastArgsZ = argsZ; layoutKey = null; }  // a new start from Python
    if (key !== layoutKey) { build(); layoutKey = key; }
    canvas.width = args.size;
    if (!canvas.height || !args.grid) canvas.height = args.size;
    canvas.style.display = args.vocabulary ? "none" : "";
    text.style.display = args.vocabulary ? "block" : "none";
    text.style.width = `${Math.max(args.size, 280)}px`;
    if (args.map) {
      reading.style.minHeight = "3.9em";  // room for the reading: hovering never changes the frame's height
      text.style.minHeight = "6.5em";  // and for a sentence of a few lines
      Object.assign(nonfinite.style, { display: "block", minHeight: "1.3em" });  // and for a NaN caption
      watchMap();
      if (!render.polling) render.polling = setInterval(watchMap, 500);
    }
    send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 8 });
    if (failed) return;
    if (args.graph !== sessionUrl) {
      sessionUrl = args.graph;
      session = null;
      const url = args.graph;
      note.textContent = "loading the decoder…";
      openSession(url, args.vocabulary).then(([ready, vocabulary]) => {
        if (url !== sessionUrl) return;  // another model was chosen meanwhile
        session = ready;
        words = vocabulary;
        note.textContent = args.map ? "hover the map: decoded in the browser" : "decoded in the browser (onnxruntime-web)";
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
