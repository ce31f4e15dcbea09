// A Streamlit component (plain postMessage protocol, no build step) that draws a latent map of up
// to millions of points and decodes what lies under the cursor while it moves.
//
// Why not Plotly or a WebGL library: measured in headless Chromium with software rendering (no
// GPU, 2 cores), Plotly's scattergl fed typed arrays took 11 s to first paint 1M points and
// 1.7-5.5 s per zoom; regl-scatterplot took 1 s and ~220 ms per zoom at 100k and did not finish
// at 1M. Here every frame is rasterised on the CPU into one ImageData: each point adds its colour
// to its pixel's sums and counts (which is also the density shading), then one pass writes the
// pixels. Details in docs/large_maps.md.
//
// Data come as binary buffers fetched once by content-named URLs (never JSON through the
// websocket): positions (float32 x, y), colour indices (uint8 into a 256-entry palette) and the
// codes (uint16, value = offset + q * scale per dimension). A uniform grid over the positions is
// the spatial index: the nearest points to the cursor in microseconds; the code under the cursor
// is the distance-weighted mean of its k nearest points' codes (the inverse the server uses),
// decoded by the model's ONNX graph in onnxruntime-web. Python gets a click (a point's row or an
// empty spot) or a box / lasso polygon, in map coordinates.
(function () {
  "use strict";
  const send = (type, extra) => window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra), "*");
  const report = (value) => send("streamlit:setComponentValue", { value: Object.assign({ nonce: Date.now() }, value), dataType: "json" });
  const $ = (id) => document.getElementById(id);
  const canvas = $("map"), overlay = $("overlay"), statusLine = $("status"), legend = $("legend");
  const decodedCanvas = $("decoded"), reading = $("reading"), nearestImage = $("nearest"), about = $("about");
  const under = $("under"), thumbs = $("thumbs"), note = $("note");
  const W = canvas.width, H = canvas.height;
  const context = canvas.getContext("2d"), overlayContext = overlay.getContext("2d");
  const frame = context.createImageData(W, H), pixels = new Uint32Array(frame.data.buffer);
  const counts = new Uint32Array(W * H), sumR = new Uint32Array(W * H), sumG = new Uint32Array(W * H), sumB = new Uint32Array(W * H);

  // What tests and the bench read.
  window.__renderTimes = [];    // ms per full frame
  window.__nearestTimes = [];   // ms per nearest-point look-up on hover
  window.__hoverLatencies = []; // mouse event -> decoded frame drawn, ms
  window.__decodeTimes = [];
  window.__firstPaint = null;   // performance.now() of the first frame with every point

  let args = null, loadedKey = null, data = null, index = null, view = null, mode = "pan";
  let session = null, sessionUrl = null, busy = false, pendingCode = null, pendingStamp = 0;
  let lastFound = null;  // the latest hover, decoded as soon as the codes and the decoder are in
  let picked = -1, polygon = null, drawScheduled = false, lastNearest = -1, imageBusy = false, imageWanted = null;

  // -- loading ---------------------------------------------------------------------------------
  async function fetchBuffer(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return await response.arrayBuffer();
  }

  async function load(a) {
    statusLine.textContent = `loading ${a.n.toLocaleString()} points…`;
    const [xy, colour] = await Promise.all([fetchBuffer(a.buffers.xy), fetchBuffer(a.buffers.colour)]);
    data = { n: a.n, xy: new Float32Array(xy), colour: new Uint8Array(colour), codes: null };
    index = buildIndex(data.xy, data.n, a.bounds);
    resetView();
    draw();
    window.__firstPaint = performance.now();
    if (args.buffers.colour !== a.buffers.colour) refetchColour();  // chosen while this loaded
    statusLine.textContent = `${a.n.toLocaleString()} points`;
    openDecoder(args.graph);
    // The codes (what hover decodes) come after the first paint: the map is usable at once.
    fetchBuffer(a.buffers.codes).then((codes) => { data.codes = new Uint16Array(codes); decodeLatest(); })
      .catch((error) => { note.textContent = "codes unavailable: " + error.message; });
  }

  function refetchColour() {
    const url = args.buffers.colour;
    fetchBuffer(url).then((colour) => { if (url === args.buffers.colour) { data.colour = new Uint8Array(colour); scheduleDraw(); } });
  }

  // -- the spatial index: a uniform grid, points sorted by cell (counting sort) ------------------
  function buildIndex(xy, n, bounds) {
    const [x0, x1, y0, y1] = bounds;
    const side = Math.max(1, Math.floor(Math.sqrt(n / 4)));
    const cw = (x1 - x0) / side || 1, ch = (y1 - y0) / side || 1;
    const cellOf = new Uint32Array(n), start = new Uint32Array(side * side + 1), order = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const cx = Math.min(side - 1, Math.max(0, Math.floor((xy[2 * i] - x0) / cw)));
      const cy = Math.min(side - 1, Math.max(0, Math.floor((xy[2 * i + 1] - y0) / ch)));
      const c = cy * side + cx;
      cellOf[i] = c;
      start[c + 1]++;
    }
    for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
    const fill = start.slice(0, side * side);
    for (let i = 0; i < n; i++) order[fill[cellOf[i]]++] = i;
    return { x0, y0, cw, ch, side, start, order };
  }

  // The k nearest points to (qx, qy) in map units: rings of cells outwards until the k-th best
  // distance is inside the searched square.
  function nearest(qx, qy, k) {
    const { x0, y0, cw, ch, side, start, order } = index;
    const xy = data.xy;
    // A cursor off the grid searches from the nearest cell on it.
    const cx = Math.min(side - 1, Math.max(0, Math.floor((qx - x0) / cw)));
    const cy = Math.min(side - 1, Math.max(0, Math.floor((qy - y0) / ch)));
    const best = [], dist = [];
    for (let ring = 0; ring <= side * 2; ring++) {
      for (let gy = cy - ring; gy <= cy + ring; gy++) {
        if (gy < 0 || gy >= side) continue;
        const edge = gy === cy - ring || gy === cy + ring;
        for (let gx = cx - ring; gx <= cx + ring; gx += edge ? 1 : 2 * ring || 1) {
          if (gx < 0 || gx >= side) continue;
          const c = gy * side + gx;
          for (let s = start[c]; s < start[c + 1]; s++) {
            const i = order[s], dx = xy[2 * i] - qx, dy = xy[2 * i + 1] - qy, d = dx * dx + dy * dy;
            if (best.length === k && d >= dist[k - 1]) continue;
            if (best.length < k) { best.push(i); dist.push(d); } else { best[k - 1] = i; dist[k - 1] = d; }
            for (let j = best.length - 1; j > 0 && dist[j - 1] > dist[j]; j--) {
              [best[j - 1], best[j]] = [best[j], best[j - 1]]; [dist[j - 1], dist[j]] = [dist[j], dist[j - 1]];
            }
          }
        }
      }
      const reach = ring * Math.min(cw, ch);  // every point closer than this has been seen
      if (best.length >= k && dist[best.length - 1] <= reach * reach) break;
    }
    return { rows: best, d2: dist };
  }

  // The bench's reference for `nearest`: every point looked at (what a map without an index does).
  window.__nearestByScan = (qx, qy) => {
    let best = -1, bestD = Infinity;
    for (let i = 0; i < data.n; i++) {
      const dx = data.xy[2 * i] - qx, dy = data.xy[2 * i + 1] - qy, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  };
  window.__nearestByIndex = (qx, qy) => nearest(qx, qy, 1).rows[0];
  window.__toMap = (px, py) => toMap(px, py);

  // -- the view and drawing ------------------------------------------------------------------------
  function resetView() {
    const [x0, x1, y0, y1] = args.bounds;
    const pad = 0.03, spanX = (x1 - x0) || 1, spanY = (y1 - y0) || 1;
    const scale = Math.min(W / (spanX * (1 + 2 * pad)), H / (spanY * (1 + 2 * pad)));
    view = { scale, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2 };
  }
  const toScreen = (x, y) => [(x - view.cx) * view.scale + W / 2, H / 2 - (y - view.cy) * view.scale];
  const toMap = (px, py) => [(px - W / 2) / view.scale + view.cx, (H / 2 - py) / view.scale + view.cy];

  function draw() {
    const started = performance.now();
    const xy = data.xy, colour = data.colour, n = data.n, palette = args.palette;
    counts.fill(0); sumR.fill(0); sumG.fill(0); sumB.fill(0);
    const s = view.scale, ox = W / 2 - view.cx * s, oy = H / 2 + view.cy * s;
    let visible = 0;
    for (let i = 0; i < n; i++) {
      const px = xy[2 * i] * s + ox, py = oy - xy[2 * i + 1] * s;
      if (px < 0 || py < 0 || px >= W || py >= H) continue;
      const p = (py | 0) * W + (px | 0), c = palette[colour[i]];
      counts[p]++; sumR[p] += c[0]; sumG[p] += c[1]; sumB[p] += c[2];
      visible++;
    }
    let most = 1, occupied = 0;
    for (let p = 0; p < W * H; p++) {
      const k = counts[p];
      if (k) { occupied++; if (k > most) most = k; }
    }
    const shaded = $("density").checked, logMost = Math.log1p(most);
    // Few lit pixels (a zoomed view, or many codes on the same spot) get bigger dots; a crowd
    // of lit pixels is already a picture at one pixel each.
    const radius = occupied < 5000 ? 2 : occupied < 40000 ? 1 : 0;
    pixels.fill(0xffffffff);
    for (let p = 0; p < W * H; p++) {
      const k = counts[p];
      if (!k) continue;
      // Density: more points on a pixel, a stronger colour (log scale); else full colour.
      const a = shaded ? 0.45 + 0.55 * Math.log1p(k) / logMost : 1;
      const r = 255 - a * (255 - sumR[p] / k), g = 255 - a * (255 - sumG[p] / k), b = 255 - a * (255 - sumB[p] / k);
      const value = 0xff000000 | (b << 16) | (g << 8) | r;
      if (!radius) { pixels[p] = value; continue; }
      const x = p % W, y = (p - x) / W;
      for (let dy = -radius; dy <= radius; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < W && dx * dx + dy * dy <= radius * radius + 1) pixels[yy * W + xx] = value;
        }
      }
    }
    context.putImageData(frame, 0, 0);
    window.__renderTimes.push(performance.now() - started);
    canvas.dataset.draws = String(window.__renderTimes.length);
    canvas.dataset.visible = String(visible);
    canvas.dataset.occupied = String(occupied);
    drawOverlay();
  }

  function scheduleDraw() {
    if (drawScheduled) return;
    drawScheduled = true;
    requestAnimationFrame(() => { drawScheduled = false; draw(); });
  }

  function drawOverlay(hover) {
    overlayContext.clearRect(0, 0, W, H);
    if (polygon && polygon.length > 1) {
      overlayContext.strokeStyle = "#ff4b4b"; overlayContext.lineWidth = 1.5; overlayContext.setLineDash([4, 3]);
      overlayContext.beginPath();
      polygon.forEach(([x, y], i) => { const [px, py] = toScreen(x, y); if (i) overlayContext.lineTo(px, py); else overlayContext.moveTo(px, py); });
      overlayContext.closePath(); overlayContext.stroke(); overlayContext.setLineDash([]);
    }
    for (const [row, colour] of [[picked, "#ff4b4b"], [hover === undefined ? lastNearest : hover, "#31333f"]]) {
      if (row < 0 || !data) continue;
      const [px, py] = toScreen(data.xy[2 * row], data.xy[2 * row + 1]);
      overlayContext.strokeStyle = colour; overlayContext.lineWidth = 2;
      overlayContext.beginPath(); overlayContext.arc(px, py, 6, 0, 2 * Math.PI); overlayContext.stroke();
    }
  }

  // -- hover: nearest point, its image, the decoded code under the cursor ----------------------------
  function hover(event) {
    if (!data) return;
    const [mx, my] = toMap(event.offsetX, event.offsetY);
    const started = performance.now();
    const found = nearest(mx, my, args.k);
    window.__nearestTimes.push(performance.now() - started);
    if (!found.rows.length) return;
    const row = found.rows[0];
    if (row !== lastNearest) { lastNearest = row; drawOverlay(row); showNearest(row, found.rows); }
    const distance = Math.sqrt(found.d2[0]) / args.spacing;
    const [near, far] = args.thresholds;
    reading.textContent = `${distance.toFixed(1)}× the typical spacing from the nearest image: ` +
      (distance <= near ? args.readings[0] : distance <= far ? args.readings[1] : args.readings[2]);
    lastFound = { found, stamp: performance.timeOrigin + event.timeStamp };
    if (data.codes && session) {
      pendingCode = inverse(found);
      pendingStamp = performance.timeOrigin + event.timeStamp;
      if (!busy) pump();
    }
  }

  function decodeLatest() {
    if (!lastFound || !data || !data.codes || !session) return;
    pendingCode = inverse(lastFound.found);
    pendingStamp = lastFound.stamp;
    if (!busy) pump();
  }

  function inverse(found) {
    // Distance-weighted mean of the nearest points' codes (as LatentMap.inverse_transform).
    const d = args.dims, code = new Float32Array(d), q = data.codes;
    let total = 0;
    const weights = found.d2.map((d2) => 1 / Math.max(d2, 1e-24));  // 1 / distance², as the server
    weights.forEach((w) => { total += w; });
    found.rows.forEach((row, j) => {
      const w = weights[j] / total;
      for (let i = 0; i < d; i++) code[i] += w * (args.code_offset[i] + q[row * d + i] * args.code_scale[i]);
    });
    return code;
  }

  async function pump() {
    busy = true;
    try {
      while (pendingCode) {
        const code = pendingCode, stamp = pendingStamp;
        pendingCode = null;
        const feeds = { z: new ort.Tensor("float32", code, [1, code.length]) };
        if (args.conditional) feeds.label = new ort.Tensor("int64", BigInt64Array.from([0n]), [1]);
        const started = performance.now();
        const output = await session.run(feeds);
        window.__decodeTimes.push(performance.now() - started);
        paintDecoded(output.image);
        window.__hoverLatencies.push(performance.timeOrigin + performance.now() - stamp);
      }
    } catch (error) {
      note.textContent = "browser decoding stopped: " + (error.message || error);
      session = null;
    } finally {
      busy = false;
    }
  }

  const offscreen = document.createElement("canvas");
  function paintDecoded(image) {
    const [, c, h, w] = image.dims, values = image.data, [low, high] = args.pixel_range, scale = 255 / (high - low);
    offscreen.width = w; offscreen.height = h;
    const target = offscreen.getContext("2d"), out = target.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = values[(c === 3 ? ch : 0) * h * w + i];
        out.data[4 * i + ch] = v - v !== 0 ? (ch === 1 ? 0 : 255) : Math.round(scale * (v - low));  // NaN/inf: magenta
      }
      out.data[4 * i + 3] = 255;
    }
    target.putImageData(out, 0, 0);
    const shown = decodedCanvas.getContext("2d");
    shown.imageSmoothingEnabled = false;
    shown.drawImage(offscreen, 0, 0, decodedCanvas.width, decodedCanvas.height);
    decodedCanvas.dataset.draws = String(Number(decodedCanvas.dataset.draws || 0) + 1);
  }

  function showNearest(row, rows) {
    const label = args.categorical && args.class_names ? ` · ${args.class_names[data.colour[row]]}` : "";
    about.textContent = `point ${row.toLocaleString()}${label}`;
    wantImages(row, view.scale * 1 >= args.thumbs_scale ? rows.slice(0, 8) : null);
  }

  // One image request at a time; moves meanwhile keep only the latest wish.
  function wantImages(row, rows) {
    imageWanted = { row, rows };
    if (imageBusy) return;
    imageBusy = true;
    const next = () => {
      const wish = imageWanted;
      imageWanted = null;
      if (!wish) { imageBusy = false; return; }
      const one = new Promise((done) => { nearestImage.onload = nearestImage.onerror = done; nearestImage.src = `${args.image_url}${wish.row}.png`; });
      const many = wish.rows ? new Promise((done) => {
        thumbs.onload = thumbs.onerror = done; thumbs.src = `${args.image_url}${wish.rows.join(",")}.png`;
        under.textContent = `The ${wish.rows.length} images nearest the cursor:`;
      }) : Promise.resolve((thumbs.removeAttribute("src"), under.textContent = args.zoom_hint));
      Promise.all([one, many]).then(next);
    };
    next();
  }

  // -- mouse: pan, zoom, click, box, lasso ------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    drag = { x: event.offsetX, y: event.offsetY, view: Object.assign({}, view), moved: false, path: [toMap(event.offsetX, event.offsetY)] };
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) { hover(event); return; }
    const dx = event.offsetX - drag.x, dy = event.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (!drag.moved) return;
    if (mode === "pan") {
      view.cx = drag.view.cx - dx / view.scale; view.cy = drag.view.cy + dy / view.scale;
      scheduleDraw();
    } else {
      const here = toMap(event.offsetX, event.offsetY);
      if (mode === "lasso") {
        // A vertex per 3 screen pixels: a long lasso stays a few hundred edges for the server.
        const [lx, ly] = toScreen(...drag.path[drag.path.length - 1]);
        if (Math.hypot(event.offsetX - lx, event.offsetY - ly) >= 3) drag.path.push(here);
      }
      else { const [a, b] = [drag.path[0], here]; drag.box = [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]]; }
      polygon = mode === "lasso" ? drag.path : drag.box;
      drawOverlay();
    }
  });
  canvas.addEventListener("pointerup", (event) => {
    const was = drag;
    drag = null;
    if (!was || !data) return;
    if (!was.moved) { click(event); return; }
    if (mode === "lasso" && was.path.length > 2) report({ lasso: was.path.map(([x, y]) => [x, y]) });
    else if (mode === "box" && was.box) report({ box: was.box });
  });
  canvas.addEventListener("pointerleave", () => { lastNearest = -1; drawOverlay(-1); });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [mx, my] = toMap(event.offsetX, event.offsetY), factor = Math.exp(-event.deltaY * 0.0015);
    view.scale *= factor;
    view.cx = mx - (event.offsetX - W / 2) / view.scale; view.cy = my + (event.offsetY - H / 2) / view.scale;
    scheduleDraw();
  }, { passive: false });

  function click(event) {
    const [mx, my] = toMap(event.offsetX, event.offsetY);
    const found = nearest(mx, my, 1);
    const near = found.rows.length && Math.sqrt(found.d2[0]) * view.scale <= 6;
    polygon = null;
    if (near) { picked = found.rows[0]; drawOverlay(); report({ point: picked }); }
    else { picked = -1; drawOverlay(); report({ spot: [mx, my] }); }
  }

  function setMode(next) {
    mode = next;
    for (const name of ["pan", "box", "lasso"]) $(name).setAttribute("aria-pressed", String(name === mode));
  }
  for (const name of ["pan", "box", "lasso"]) $(name).addEventListener("click", () => setMode(name));
  $("reset").addEventListener("click", () => { resetView(); scheduleDraw(); });
  $("density").addEventListener("change", scheduleDraw);

  // -- the decoder ------------------------------------------------------------------------------------
  // onnxruntime-web is loaded after the map is drawn: its script is the page's largest, and the
  // points need none of it.
  const ORT_FOLDER = "../ui.live.decoding.live_traverse/ort/";
  let runtimeLoading = null;
  function loadRuntime() {
    if (typeof ort === "object") return Promise.resolve();
    if (!runtimeLoading) {
      runtimeLoading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = ORT_FOLDER + "ort.wasm.min.js";
        script.onload = resolve;
        script.onerror = () => reject(new Error("onnxruntime-web did not load"));
        document.head.appendChild(script);
      });
    }
    return runtimeLoading;
  }

  function openDecoder(url) {
    if (!url) { note.textContent = "no decoder graph: hover shows the nearest image only"; return; }
    if (typeof WebAssembly !== "object") { note.textContent = "this browser cannot decode (no WebAssembly)"; return; }
    if (url === sessionUrl) return;
    sessionUrl = url;
    loadRuntime()
      .then(() => {
        ort.env.wasm.wasmPaths = new URL(ORT_FOLDER, document.baseURI).href;
        ort.env.wasm.proxy = false;
        ort.env.wasm.numThreads = 1;
        return fetchBuffer(url);
      })
      .then((bytes) => ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"], graphOptimizationLevel: "all" }))
      .then((made) => { session = made; note.textContent = ""; decodeLatest(); })
      .catch((error) => { note.textContent = "browser decoding unavailable: " + (error.message || error); });
  }

  function showLegend() {
    legend.textContent = "";
    for (const [name, colour] of args.legend) {
      const item = document.createElement("span"), swatch = document.createElement("span");
      swatch.className = "swatch"; swatch.style.background = `rgb(${colour.join(",")})`;
      item.append(swatch, name);
      legend.append(item);
    }
  }

  // -- Streamlit ----------------------------------------------------------------------------------------
  window.addEventListener("message", (event) => {
    if (!event.data || event.data.type !== "streamlit:render") return;
    args = event.data.args;
    showLegend();
    if (args.picked !== undefined && args.picked !== null) picked = args.picked;
    const key = `${args.buffers.xy}|${args.buffers.colour}`;
    if (key !== loadedKey) {
      const fresh = !loadedKey || !loadedKey.startsWith(args.buffers.xy + "|");
      loadedKey = key;
      if (fresh) { load(args).catch((error) => { statusLine.textContent = "could not load the map: " + error.message; }); }
      else if (data) refetchColour();  // else the load under way fetches it when it is done
    }
    if (data) openDecoder(args.graph);  // else once the map is drawn
    under.textContent = args.zoom_hint;
    send("streamlit:setFrameHeight", { height: document.body.scrollHeight + 8 });
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
