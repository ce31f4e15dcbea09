// A text model's decoded token ids as sentences, as vae/data/vocabulary.py writes them:
// `Vocabulary.decode` (stop at <eos> or <pad>, skip <bos>, <unk> and unknown ids shown as
// "<unk>") and `detokenize` (words joined by spaces, none after an opening bracket nor before
// closing punctuation). Kept apart from component.js so a test can load it on its own.
(function () {
  "use strict";
  const PAD = 0, BOS = 1, EOS = 2, UNK = 3;

  // Python: re.sub(r" ([.,!?;:)\]}'])", r"\1", re.sub(r"([(\[{]) ", r"\1", " ".join(words)));
  // both replace non-overlapping matches left to right, as the global flag does here.
  function detokenize(words) {
    return words.join(" ").replace(/([(\[{]) /g, "$1").replace(/ ([.,!?;:)\]}'])/g, "$1");
  }

  // One row of ids (any array-like of numbers) -> its sentence.
  function sentence(ids, words) {
    const out = [];
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      if (id === EOS || id === PAD) break;
      if (id === BOS) continue;
      out.push(id !== UNK && id >= 0 && id < words.length ? words[id] : "<unk>");
    }
    return detokenize(out);
  }

  // An (N, L) ids tensor of onnxruntime-web (flat data, dims) -> N sentences.
  function sentences(data, dims, words) {
    const [n, length] = dims, rows = [];
    for (let k = 0; k < n; k++) rows.push(sentence(data.subarray(k * length, (k + 1) * length), words));
    return rows;
  }

  self.liveText = { detokenize: detokenize, sentence: sentence, sentences: sentences };
})();
