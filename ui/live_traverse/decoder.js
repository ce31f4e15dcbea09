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

  // ConvTranspose2d: every input pixel scatters a k×k kernel into the output, stride s, padding p.
  function deconv(x, shape, op) {
    const cin = shape[0], h = shape[1], w = shape[2];
    const cout = op.weight.shape[1], k = op.weight.shape[2];
    const s = op.stride, p = op.padding;
    const H = (h - 1) * s - 2 * p + k + op.output_padding[0];
    const W = (w - 1) * s - 2 * p + k + op.output_padding[1];
    const weight = op.weight.data, bias = op.bias.data;
    const y = new Float32Array(cout * H * W);
    for (let co = 0; co < cout; co++) y.fill(bias[co], co * H * W, (co + 1) * H * W);
    for (let ci = 0; ci < cin; ci++) {
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < w; ix++) {
          const v = x[(ci * h + iy) * w + ix];
          if (v === 0) continue;
          for (let co = 0; co < cout; co++) {
            const kernel = (ci * cout + co) * k * k, plane = co * H * W;
            for (let ky = 0; ky < k; ky++) {
              const oy = iy * s - p + ky;
              if (oy < 0 || oy >= H) continue;
              for (let kx = 0; kx < k; kx++) {
                const ox = ix * s - p + kx;
                if (ox < 0 || ox >= W) continue;
                y[plane + oy * W + ox] += v * weight[kernel + ky * k + kx];
              }
            }
          }
        }
      }
    }
    return { data: y, shape: [cout, H, W] };
  }

  // z: array of latent_dim numbers; label: class index for a conditional decoder (else ignored).
  // Returns { data: Float32Array (C*H*W, values in [0, 1]), shape: [C, H, W] }.
  function decode(model, z, label) {
    let x = new Float32Array(model.latent_dim + model.num_classes);
    x.set(z);
    if (model.num_classes) x[model.latent_dim + (label || 0)] = 1;
    let shape = [x.length];
    for (const op of model.ops) {
      if (op.op === "linear") { x = linear(x, op); shape = [x.length]; }
      else if (op.op === "silu") x = silu(x);
      else if (op.op === "sigmoid") x = sigmoid(x);
      else if (op.op === "reshape") shape = op.shape.slice();
      else if (op.op === "deconv") { const out = deconv(x, shape, op); x = out.data; shape = out.shape; }
      else throw new Error("unsupported operation " + op.op);
    }
    return { data: x, shape: shape };
  }

  global.VAEDecoder = { prepare: prepare, decode: decode };
})(typeof window !== "undefined" ? window : globalThis);
