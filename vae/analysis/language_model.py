"""The baseline a sentence VAE is measured against: a plain recurrent language model of the
same size (the VAE decoder's embedding and state sizes, no z), trained on the same split and
vocabulary with the same epochs, batch size and learning rate. Its log-likelihood is exact,
so its perplexity is the figure the VAE's IWAE bound is compared with (Bowman et al. 2016,
table 2: the VAE should come close to it while its code carries information)."""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from vae.analysis.metrics import perplexity, scored_tokens
from vae.data.vocabulary import BOS, PAD
from vae.latent.encoding import batches
from vae.models.sentence import SentenceVAE, scored_log_likelihood


class LanguageModel(nn.Module):
    """p(sentence) = Π_t p(word_t | words before t): embedding → GRU / LSTM → logits."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, arch: str = "gru") -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.rnn = (nn.GRU if arch == "gru" else nn.LSTM)(embed_dim, hidden_dim, batch_first=True)
        self.to_logits = nn.Linear(hidden_dim, vocab_size)

    def states(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced outputs (N, L, hidden_dim) of token ids (N, L): <bos> first."""
        inputs = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], 1)
        return self.rnn(self.embedding(inputs))[0]

    def sentence_log_prob(self, tokens: torch.Tensor) -> torch.Tensor:
        """log p(sentence), (N,) nats: its words and its <eos>, as the VAE scores them."""
        return scored_log_likelihood(self.states(tokens), tokens, self.to_logits)


def matching_language_model(vae: SentenceVAE) -> LanguageModel:
    """A language model with the VAE decoder's sizes."""
    sizes = vae.config
    return LanguageModel(sizes.vocab_size, sizes.embed_dim, sizes.hidden_dim, sizes.arch)


def train_language_model(
    model: LanguageModel,
    x_train: torch.Tensor,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    on_epoch=None,
) -> list[dict]:
    """Maximum likelihood with Adam on token ids (N, L), shuffled per epoch as `vae.train` does.
    Returns one record per epoch (mean training NLL per sentence, seconds); `on_epoch(record)`
    is called after each."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    history = []
    model.train()
    for epoch in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        total = 0.0
        for step in range(math.ceil(len(x_train) / batch_size)):
            batch = x_train[order[step * batch_size : (step + 1) * batch_size]]
            loss = -model.sentence_log_prob(batch).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        record = {"epoch": epoch + 1, "train_nll": total / len(x_train), "seconds": time.perf_counter() - started}
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
    model.eval()
    return history


@torch.no_grad()
def evaluate_language_model(model: LanguageModel, x: torch.Tensor, batch_size: int = 64) -> dict:
    """Exact held-out NLL per sentence and per-word perplexity (<eos> counted as a word)."""
    was_training = model.training
    model.eval()
    log_p = torch.cat([model.sentence_log_prob(x[s]) for s in batches(len(x), batch_size)])
    model.train(was_training)
    tokens = int(scored_tokens(x).sum())
    nll = float(-log_p.mean())
    return {"n": len(x), "tokens": tokens, "nll": nll, "perplexity": perplexity(nll * len(x), tokens)}
