"""The sentence VAE (Bowman et al. 2016, "Generating Sentences from a Continuous Space").

Token ids (N, L) -> embedding -> GRU / LSTM -> its state after the sentence's <eos> ->
(μ, log σ²); z = μ + σ⊙ε; the decoder's recurrent state starts from z and z is also fed beside
every input word, so the decoder cannot easily ignore it. Training replaces input words by
<unk> with probability `word_dropout` (Bowman's word dropout), which makes the decoder lean on
z; KL annealing and free bits are the loss's `beta` schedule and `free_bits`, as for images.

As a `LatentModel` it reads and writes token ids: `decode` is greedy decoding to (N, L) ids,
`log_px_given_z` sums log p(word) over each sentence's words and its <eos>.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vae.data.vocabulary import BOS, EOS, PAD, UNK, Vocabulary
from vae.models.architecture import SentenceConfig
from vae.models.gaussian import gaussian_kl, reparameterize
from vae.models.native import ElboTerms


def sentence_mask(tokens: torch.Tensor) -> torch.Tensor:
    """(N, L) bool: the positions scored, each sentence's words and its first <eos>."""
    is_end = tokens == EOS
    ended_before = torch.cumsum(is_end.long(), 1) - is_end.long()
    return ended_before == 0


def sentence_lengths(tokens: torch.Tensor) -> torch.Tensor:
    """(N,) the number of ids up to and including each row's first <eos>."""
    return sentence_mask(tokens).sum(1)


def scored_log_likelihood(states: torch.Tensor, tokens: torch.Tensor, to_logits: nn.Module) -> torch.Tensor:
    """log p(sentence), (N,) nats, from a decoder's outputs (N, L, H): the logits are computed
    at the scored positions alone (words and <eos>, about half of a padded row), which halves
    the largest product of training, the projection to the vocabulary."""
    mask = sentence_mask(tokens)
    rows = torch.arange(len(tokens), device=tokens.device)[:, None].expand_as(tokens)[mask]
    log_p = -F.cross_entropy(to_logits(states[mask]).float(), tokens[mask], reduction="none")
    return torch.zeros(len(tokens), dtype=log_p.dtype, device=log_p.device).index_add(0, rows, log_p)


class SentenceVAE(nn.Module):
    modality = "text"

    def __init__(self, config: SentenceConfig, vocabulary: Vocabulary | None = None) -> None:
        super().__init__()
        self.config = config
        self.vocabulary = vocabulary  # set from the checkpoint's metadata; ids alone need none
        rnn = nn.GRU if config.arch == "gru" else nn.LSTM
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=PAD)
        self.encoder_rnn = rnn(config.embed_dim, config.hidden_dim, batch_first=True)
        self.to_mu = nn.Linear(config.hidden_dim, config.latent_dim)
        self.to_logvar = nn.Linear(config.hidden_dim, config.latent_dim)
        self.latent_to_state = nn.Linear(config.latent_dim, config.hidden_dim)
        self.decoder_rnn = rnn(config.embed_dim + config.latent_dim, config.hidden_dim, batch_first=True)
        self.to_logits = nn.Linear(config.hidden_dim, config.vocab_size)

    # -- the model interface (vae.models.interface.LatentModel) ----------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def sequence_length(self) -> int:
        return self.config.sequence_length

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    @property
    def num_classes(self) -> int:
        return 0

    @property
    def likelihood(self) -> str:
        return "categorical"

    @property
    def architecture(self) -> str:
        c = self.config
        return f"sentence VAE: {c.arch.upper()} {c.hidden_dim}, embedding {c.embed_dim}, vocabulary {c.vocab_size}"

    @property
    def device(self) -> torch.device:
        return self.to_mu.weight.device

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (N, L) -> μ, log σ², each (N, latent_dim): the encoder's output at each
        sentence's <eos> (a one-way RNN's output there has not seen the padding after it)."""
        outputs, _ = self.encoder_rnn(self.embedding(x))
        last = (sentence_lengths(x) - 1).clamp(min=0)
        h = outputs[torch.arange(len(x), device=x.device), last]
        return self.to_mu(h), self.to_logvar(h)

    def decode_logits(
        self,
        z: torch.Tensor,
        tokens: torch.Tensor,
        word_dropout: float = 0.0,
        generator: torch.Generator | None = None,
        dropout_draws: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced logits (N, L, vocab_size) of `tokens` given z: the input at step t is
        word t − 1 (<bos> first), each replaced by <unk> with probability `word_dropout`.
        `dropout_draws` (N, L) uniform in [0, 1), when given, are the draws (training passes
        its own, so data-parallel ranks and resumed runs drop the same words)."""
        return self.to_logits(self._decoder_states(z, tokens, word_dropout, generator, dropout_draws))

    def _decoder_states(self, z, tokens, word_dropout=0.0, generator=None, dropout_draws=None) -> torch.Tensor:
        """The decoder's outputs (N, L, hidden_dim) before the projection to logits."""
        inputs = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], 1)
        if word_dropout > 0:
            if dropout_draws is None:
                dropout_draws = torch.rand(inputs.shape, generator=generator, device=inputs.device)
            drop = dropout_draws.to(inputs.device) < word_dropout
            drop[:, 0] = False  # <bos> stays
            inputs = inputs.masked_fill(drop & (inputs != PAD), UNK)
        steps = torch.cat([self.embedding(inputs), z[:, None, :].expand(-1, inputs.shape[1], -1)], 2)
        outputs, _ = self.decoder_rnn(steps, self._initial_state(z))
        return outputs

    def _initial_state(self, z: torch.Tensor):
        h0 = torch.tanh(self.latent_to_state(z))[None]
        return h0 if self.config.arch == "gru" else (h0, torch.zeros_like(h0))

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """log p(sentence | z), (N,) nats: its words and its <eos>."""
        return scored_log_likelihood(self._decoder_states(z, x), x, self.to_logits)

    @staticmethod
    def token_log_likelihood(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """log p(sentence), (N,) nats, from teacher-forced logits (N, L, vocab_size)."""
        log_p = -F.cross_entropy(logits.transpose(1, 2).float(), tokens, reduction="none")
        return (log_p * sentence_mask(tokens)).sum(1)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent_dim) -> the greedy sentence, (N, L) ids, <pad> after its <eos>."""
        return self.generate(z)

    def generate(
        self, z: torch.Tensor, temperature: float = 0.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Decode word by word: the most likely word at each step (temperature 0, greedy), or a
        draw from softmax(logits / temperature). (N, L) ids; the last position is always <eos>
        or <pad>. The loop has a fixed length, so it unrolls into an ONNX graph."""
        n, length = z.shape[0], self.config.sequence_length
        state = self._initial_state(z)
        token = torch.full((n,), BOS, dtype=torch.long, device=z.device)
        finished = torch.zeros(n, dtype=torch.bool, device=z.device)
        out = []
        for step in range(length):
            step_input = torch.cat([self.embedding(token), z], 1)[:, None, :]
            output, state = self.decoder_rnn(step_input, state)
            logits = self.to_logits(output[:, 0])
            logits[:, [PAD, BOS]] = float("-inf")  # never inside a sentence: its words, then <eos>
            if step == length - 1:  # no room left: the sentence ends here
                token = torch.full_like(token, EOS)
            elif temperature > 0:
                probs = torch.softmax(logits.float() / temperature, 1)
                token = torch.multinomial(probs, 1, generator=generator)[:, 0]
            else:
                token = logits.argmax(1)
            token = torch.where(finished, torch.full_like(token, PAD), token)
            out.append(token)
            finished = finished | (token == EOS)
        return torch.stack(out, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        return self.decode_logits(z, x), mu, logvar

    @torch.no_grad()
    def sample(
        self, n: int, y: torch.Tensor | None = None, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n greedy sentences from the prior, z ~ N(0, temperature² I): (N, L) ids."""
        z = temperature * torch.randn(n, self.config.latent_dim, generator=generator, device=self.device)
        return self.decode(z)

    def elbo_terms(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        beta: float = 1.0,
        free_bits: float = 0.0,
        generator: torch.Generator | None = None,
        tc_penalty: float = 0.0,
        dataset_size: int | None = None,
        noise: torch.Tensor | None = None,
        word_dropout: float = 0.0,
        dropout_draws: torch.Tensor | None = None,
    ) -> ElboTerms:
        """One-sample ELBO per sentence, as `VAE.elbo_terms`; `word_dropout` weakens the
        decoder's input during training only (the ELBO is then of the weakened decoder);
        `dropout_draws` as in `decode_logits`."""
        if tc_penalty:
            raise ValueError("β-TCVAE is for image VAEs here")
        mu, logvar = self.encode(x)
        z = (
            reparameterize(mu, logvar, generator)
            if noise is None
            else mu + torch.exp(0.5 * logvar) * noise.to(mu.dtype)
        )
        states = self._decoder_states(z, x, word_dropout if self.training else 0.0, generator, dropout_draws)
        recon_ll = scored_log_likelihood(states, x, self.to_logits).mean()
        kl_per_dim = gaussian_kl(mu.float(), logvar.float()).mean(0)
        kl = kl_per_dim.sum()
        kl_for_loss = kl_per_dim.clamp(min=free_bits).sum() if free_bits > 0 else kl
        return ElboTerms(-recon_ll + beta * kl_for_loss, recon_ll - kl, recon_ll, kl, kl_per_dim)
