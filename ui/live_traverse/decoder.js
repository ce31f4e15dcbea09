// Decodes latent vectors in the browser with a VAE decoder exported by vae/decoder_export.py:
// linear, silu, reshape, deconv (ConvTranspose2d) and sigmoid, on Float32Arrays.
(function (global) {
  "use strict";

  function fromBase64(entry) {
    const text = atob(entry.data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return { shape: entry.shape, data: new Float32Array(bytes.buffer) };
  }

  function prepare(spec) {
    const ops = spec.ops.map((op) => {
      const ready = Object.assign({}, op);
      if (op.weight) ready.weight = fromBase64(op.weight);
      if (op.bias) ready.bias = fromBase64(op.bias);
      if (op.op === "deconv") ready.wLast = channelsLast(ready);
      return ready;
    });
    return Object.assign({}, spec, { ops: ops });
  }

  function linear(x, op) {
    const out = op.weight.shape[0], inputs = op.weight.shape[1];
    const w = op.weight.data, b = op.bias.data, y = new Float32Array(out);
    for (let j = 0; j < out; j++) {
      let sum = b[j];
      const row = j * inputs;
      for (let i = 0; i < inputs; i++) sum += w[row + i] * x[i];
      y[j] = sum;
    }
    return y;
  }

  function silu(x) {
    for (let i = 0; i < x.length; i++) x[i] = x[i] / (1 + Math.exp(-x[i]));
    return x;
  }

  function sigmoid(x) {
    for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
    return x;
  }

  // Weights of a ConvTranspose2d as [ci][ky][kx][co], so the innermost loop runs over
  // contiguous output channels.
  function channelsLast(op) {
    const cin = op.weight.shape[0], cout = op.weight.shape[1], k = op.weight.shape[2];
    const w = op.weight.data, out = new Float32Array(w.length);
    for (let ci = 0; ci < cin; ci++)
      for (let co = 0; co < cout; co++)
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++)
            out[((ci * k + ky) * k + kx) * cout + co] = w[((ci * cout + co) * k + ky) * k + kx];
    return out;
  }

  // ConvTranspose2d on height × width × channels arrays: every input pixel scatters a k×k
  // kernel into the output, stride s, padding p.
  function deconv(x, shape, op) {
    const h = shape[0], w = shape[1], cin = shape[2];
    const cout = op.weight.shape[1], k = op.weight.shape[2];
    const s = op.stride, p = op.padding;
    const H = (h - 1) * s - 2 * p + k + op.output_padding[0];
    const W = (w - 1) * s - 2 * p + k + op.output_padding[1];
    const weight = op.wLast, bias = op.bias.data;
    const y = new Float32Array(H * W * cout);
    for (let i = 0; i < H * W; i++) y.set(bias, i * cout);
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        const input = (iy * w + ix) * cin;
        for (let ky = 0; ky < k; ky++) {
          const oy = iy * s - p + ky;
          if (oy < 0 || oy >= H) continue;
          for (let kx = 0; kx < k; kx++) {
            const ox = ix * s - p + kx;
            if (ox < 0 || ox >= W) continue;
            const out = (oy * W + ox) * cout;
            for (let ci = 0; ci < cin; ci++) {
              const v = x[input + ci];
              if (v === 0) continue;
              const kernel = ((ci * k + ky) * k + kx) * cout;
              for (let co = 0; co < cout; co++) y[out + co] += v * weight[kernel + co];
            }
          }
        }
      }
    }
    return { data: y, shape: [H, W, cout] };
  }

  function toChannelsLast(x, shape) {
    const c = shape[0], hw = shape[1] * shape[2], y = new Float32Array(x.length);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < hw; i++) y[i * c + ch] = x[ch * hw + i];
    return { data: y, shape: [shape[1], shape[2], c] };
  }

  function toChannelsFirst(x, shape) {
    const c = shape[2], hw = shape[0] * shape[1], y = new Float32Array(x.length);
    for (let i = 0; i < hw; i++) for (let ch = 0; ch < c; ch++) y[ch * hw + i] = x[i * c + ch];
    return { data: y, shape: [c, shape[0], shape[1]] };
  }

  // z: array of latent_dim numbers; label: class index for a conditional decoder (else ignored).
  // Returns { data: Float32Array (C*H*W, values in [0, 1]), shape: [C, H, W] }.
  function decode(model, z, label) {
    let x = new Float32Array(model.latent_dim + model.num_classes);
    x.set(z);
    if (model.num_classes) x[model.latent_dim + (label || 0)] = 1;
    let shape = [x.length], channelsLastLayout = false;
    for (const op of model.ops) {
      if (op.op === "linear") { x = linear(x, op); shape = [x.length]; }
      else if (op.op === "silu") x = silu(x);
      else if (op.op === "sigmoid") x = sigmoid(x);
      else if (op.op === "reshape") shape = op.shape.slice();
      else if (op.op === "deconv") {
        if (!channelsLastLayout) { const moved = toChannelsLast(x, shape); x = moved.data; shape = moved.shape; channelsLastLayout = true; }
        const out = deconv(x, shape, op); x = out.data; shape = out.shape;
      }
      else throw new Error("unsupported operation " + op.op);
    }
    if (channelsLastLayout) { const back = toChannelsFirst(x, shape); x = back.data; shape = back.shape; }
    return { data: x, shape: shape };
  }

  global.VAEDecoder = { prepare: prepare, decode: decode };
})(typeof window !== "undefined" ? window : globalThis);
