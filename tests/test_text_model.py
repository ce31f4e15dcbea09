"""Sentence VAEs in training and evaluation: word dropout, KL annealing, free bits, the IWAE
bound, per-word perplexity, the CLI on a small hand-made corpus, resume and torchrun."""

import json
import math
import random

import pytest
import torch

import vae.data.source
import vae.training.config
from vae import load_checkpoint
from vae.analysis.language_model import evaluate_language_model, matching_language_model, train_language_model
from vae.analysis.metrics import elbo_per_example, evaluate_model, iwae_log_likelihood, mutual_information
from vae.data.datasets import Dataset
from vae.data.vocabulary import BOS, EOS, PAD, UNK
from vae.evaluate import main as evaluate_main
from vae.training.cli import main as train_main
from vae.training.config import TrainConfig
from vae.training.loop import train
from vae.training.text import checkpoint_ids

TOY = "toy-sentences"
SUBJECTS = ["the cat", "a dog", "my old friend", "the man", "a small bird", "her sister"]
VERBS = ["sees", "likes", "eats", "finds", "wants", "hates"]
OBJECTS = ["the ball", "a red apple", "some bread", "the moon", "a book", "the sea"]
ENDS = [".", "!", "today .", "again ."]


def toy_texts(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(part) for part in (SUBJECTS, VERBS, OBJECTS, ENDS)) for _ in range(n)]


def toy_dataset() -> Dataset:
    texts = toy_texts()
    labels = torch.tensor([SUBJECTS.index(next(s for s in SUBJECTS if t.startswith(s))) for t in texts])
    return Dataset(
        TOY, torch.zeros(len(texts), 0, dtype=torch.int64), labels, list(SUBJECTS), modality="text", texts=texts
    )


def _patch_corpus(patcher) -> None:
    for module in (vae.training.config, vae.data.source):
        real = module.load_dataset

        def load(spec, *args, _real=real, **kwargs):
            return toy_dataset() if spec == TOY else _real(spec, *args, **kwargs)

        patcher.setattr(module, "load_dataset", load)


@pytest.fixture
def toy_corpus(monkeypatch):
    """`--dataset toy-sentences` loads the hand-made corpus, for training and for a checkpoint's data."""
    _patch_corpus(monkeypatch)
    return TOY


SMALL = ["--arch", "gru", "--latent-dim", "4", "--embed-dim", "16", "--hidden-dim", "32", "--batch-size", "32"]
SMALL += ["--iwae-k", "3", "--quiet", "--min-count", "1"]
SMALL_MODEL = {"arch": "gru", "latent_dim": 4, "embed_dim": 16, "hidden_dim": 32}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny sentence VAE trained for a few epochs, with word dropout and free bits so its code is
    used: (model, meta, held-out ids); its file is `t.pt` in `meta["folder"]`."""
    folder = tmp_path_factory.mktemp("trained")
    cfg = TrainConfig(
        dataset=TOY, epochs=6, batch_size=32, lr=3e-3, iwae_k=0, word_dropout=0.4, free_bits=0.5, min_count=1
    )
    with pytest.MonkeyPatch.context() as patcher:
        _patch_corpus(patcher)
        model, meta = train(cfg, folder / "t.pt", SMALL_MODEL, progress=False)
    data = checkpoint_ids(toy_dataset(), meta)
    held = torch.as_tensor(meta["split"]["held_out_indices"]).long()
    return model, {**meta, "folder": folder}, data.images[held]


def test_training_builds_the_vocabulary_from_the_training_split(trained):
    model, meta, x_held = trained
    assert meta["vocabulary"][:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert model.vocabulary.to_list() == meta["vocabulary"] and len(meta["vocabulary"]) == model.vocab_size
    longest = max(len(t.split()) for t in toy_texts())
    assert meta["image_shape"] == [longest + 1] and x_held.shape == (60, longest + 1)
    assert meta["precision"] == "fp32" and meta["layout"] == "contiguous"
    assert meta["training"]["word_dropout"] == 0.4 and meta["training"]["min_count"] == 1


def test_the_vocabulary_leaves_out_words_seen_only_in_held_out_sentences(toy_corpus, tmp_path, monkeypatch):
    texts = toy_texts()
    texts[-1] = "zebras juggle quietly ."  # only sentence with these words
    data = Dataset(TOY, torch.zeros(len(texts), 0, dtype=torch.int64), modality="text", texts=texts)
    monkeypatch.setattr(vae.training.config, "load_dataset", lambda *a, **k: data)
    cfg = TrainConfig(dataset=TOY, epochs=1, iwae_k=0, min_count=1, held_out=0.2)
    _, meta = train(cfg, tmp_path / "v.pt", SMALL_MODEL, progress=False)
    held = set(torch.as_tensor(meta["split"]["held_out_indices"]).tolist())
    assert ("zebras" in meta["vocabulary"]) == (len(texts) - 1 not in held)


def test_elbo_is_below_the_iwae_bound_which_tightens_with_k(trained):
    model, _, x_held = trained
    gen = torch.Generator().manual_seed(0)
    elbo = float(elbo_per_example(model, x_held, generator=gen, samples=20)["elbo"].mean())
    bounds = []
    for k in (1, 10, 100):
        draws = [float(iwae_log_likelihood(model, x_held, k=k, generator=gen).mean()) for _ in range(5)]
        bounds.append(sum(draws) / len(draws))
    assert bounds[0] == pytest.approx(elbo, abs=0.15)  # k = 1 is the ELBO
    assert elbo <= bounds[2]
    assert bounds[0] <= bounds[1] + 0.02 and bounds[1] <= bounds[2] + 0.02


def _decoder_inputs(model, x, **options):
    """The ids the decoder reads in one `elbo_terms` call (the embedding's second call)."""
    seen = []
    handle = model.embedding.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    try:
        model.elbo_terms(x, **options)
    finally:
        handle.remove()
    return seen[-1]


def test_word_dropout_replaces_about_p_of_the_words_never_bos_or_pad_and_not_in_eval(trained):
    model, _, x_held = trained
    x = x_held.repeat(20, 1)
    teacher = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], 1)
    model.train()
    torch.manual_seed(0)
    inputs = _decoder_inputs(model, x, word_dropout=0.3)
    words = (teacher != PAD) & (teacher != BOS)
    dropped = (inputs == UNK) & (teacher != UNK)
    assert float(dropped[words].float().mean()) == pytest.approx(0.3, abs=0.02)
    assert torch.equal(inputs[:, 0], torch.full_like(inputs[:, 0], BOS))
    assert torch.equal(inputs[teacher == PAD], teacher[teacher == PAD])
    assert torch.equal(inputs[~dropped], teacher[~dropped])
    model.eval()
    assert torch.equal(_decoder_inputs(model, x, word_dropout=0.3), teacher)


def test_kl_annealing_raises_beta_over_the_warm_up(toy_corpus, tmp_path):
    cfg = TrainConfig(dataset=TOY, epochs=3, batch_size=32, iwae_k=0, warmup_epochs=2, beta=1.0, min_count=1)
    _, meta = train(cfg, tmp_path / "w.pt", SMALL_MODEL, progress=False)
    assert [h["beta"] for h in meta["history"]] == pytest.approx([0.5, 1.0, 1.0])


def test_free_bits_put_a_floor_under_each_dimensions_kl(trained):
    model, _, x_held = trained
    model.train()
    noise = torch.randn(len(x_held), model.latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain = model.elbo_terms(x_held, noise=noise)
        floored = model.elbo_terms(x_held, free_bits=50.0, noise=noise)  # far above any dimension's KL
    assert float(plain.loss) == pytest.approx(float(-plain.recon_ll + plain.kl), rel=1e-5)
    assert float(floored.loss) == pytest.approx(float(-plain.recon_ll) + 50.0 * model.latent_dim, rel=1e-5)
    assert float(floored.kl) == pytest.approx(float(plain.kl))  # the reported KL is the true one
    model.eval()


def test_greedy_decoding_ends_every_row_with_eos_then_pad(trained):
    model, _, _ = trained
    ids = model.decode(3 * torch.randn(50, model.latent_dim, generator=torch.Generator().manual_seed(0)))
    assert ids.shape == (50, model.sequence_length)
    for row in ids.tolist():
        end = row.index(EOS)  # every row has an <eos>
        assert all(i == PAD for i in row[end + 1 :]) and BOS not in row and PAD not in row[:end]


def test_text_metrics_perplexity_and_mutual_information(trained):
    model, _, x_held = trained
    m = evaluate_model(model, x_held, iwae_k=5)
    tokens = int((x_held != PAD).sum())  # words and <eos>: the ids before the padding
    assert m["tokens"] == tokens
    assert m["perplexity"] == pytest.approx(math.exp(m["iwae_nll"] * len(x_held) / tokens))
    assert m["elbo_perplexity"] >= m["perplexity"] * 0.999 and 1 < m["perplexity"] < model.vocab_size
    assert m["bits_per_dim"] == pytest.approx(math.log2(m["perplexity"]))
    assert 0 <= m["mutual_information"] <= math.log(len(x_held)) + 0.05


def test_mutual_information_estimator_bounds():
    gen = torch.Generator().manual_seed(0)
    same = mutual_information(torch.zeros(500, 3), torch.zeros(500, 3), gen)
    apart = mutual_information(100 * torch.randn(500, 3, generator=gen), torch.full((500, 3), -4.0), gen)
    assert abs(same) < 0.05 and apart == pytest.approx(math.log(500), abs=0.05)


def test_cli_trains_resumes_and_the_checkpoint_reloads_with_its_vocabulary(toy_corpus, tmp_path):
    straight, resumed = tmp_path / "straight.pt", tmp_path / "resumed.pt"
    options = [*SMALL, "--dataset", TOY, "--word-dropout", "0.3", "--warmup-epochs", "1", "--free-bits", "0.1"]
    assert train_main([*options, "--epochs", "2", "--out", str(straight)]) == 0
    assert train_main([*options, "--epochs", "1", "--out", str(resumed)]) == 0
    once, meta_once = load_checkpoint(resumed)
    assert meta_once["epochs_done"] == 1 and meta_once["metrics"]["perplexity"] > 1
    assert train_main(["--resume", "--epochs", "2", "--out", str(resumed), "--iwae-k", "3", "--quiet"]) == 0
    a, meta_a = load_checkpoint(straight)
    b, meta_b = load_checkpoint(resumed)
    assert meta_b["epochs_done"] == 2 and meta_b["vocabulary"] == meta_a["vocabulary"]
    assert b.vocabulary.to_list() == meta_b["vocabulary"]
    for name, tensor in a.state_dict().items():  # resuming repeats the shuffles, noise and word dropout
        assert torch.allclose(tensor, b.state_dict()[name], atol=1e-5), name
    again, _ = load_checkpoint(resumed)
    assert all(torch.equal(t, again.state_dict()[n]) for n, t in b.state_dict().items())


@pytest.mark.parametrize("half_weights", [False, True], ids=["float32", "half-weights"])
def test_the_final_model_and_its_file_hold_equal_weights(toy_corpus, tmp_path, half_weights):
    cfg = TrainConfig(dataset=TOY, epochs=1, iwae_k=0, min_count=1, slim=True, half_weights=half_weights)
    model, _ = train(cfg, tmp_path / "f.pt", SMALL_MODEL, progress=False)
    loaded, meta = load_checkpoint(tmp_path / "f.pt")
    assert all(torch.equal(t, loaded.state_dict()[n]) for n, t in model.state_dict().items())
    assert loaded.vocabulary == model.vocabulary and meta["vocabulary"] == model.vocabulary.to_list()
    stored = torch.load(tmp_path / "f.pt", weights_only=True)["state_dict"]
    assert {t.dtype for t in stored.values()} == {torch.float16 if half_weights else torch.float32}
    # the recorded metrics are those of the weights in the file, not of the float32 ones
    data, _, held_idx = vae.data.source.dataset_for_checkpoint(meta)
    again = evaluate_model(loaded, checkpoint_ids(data, meta).images[held_idx], iwae_k=0, seed=cfg.seed)
    assert again["elbo"] == pytest.approx(meta["metrics"]["elbo"], abs=1e-4)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--conditional"], "--conditional is for image VAEs"),
        (["--tc-beta", "4"], "--tc-beta (β-TCVAE) is for image VAEs"),
        (["--word-dropout", "1.0"], "--word-dropout must be in [0, 1)"),
    ],
)
def test_cli_refuses_image_only_options_for_text(toy_corpus, tmp_path, capsys, extra, message):
    assert train_main([*SMALL, "--dataset", TOY, "--epochs", "1", "--out", str(tmp_path / "x.pt"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_text_data_needs_a_text_arch_and_images_refuse_one(toy_corpus, tmp_path, capsys):
    assert train_main(["--dataset", TOY, "--arch", "mlp", "--epochs", "1", "--out", str(tmp_path / "x.pt")]) == 1
    assert "is text: train a sentence VAE on it with --arch gru or --arch lstm" in capsys.readouterr().err
    assert train_main(["--dataset", "digits", "--arch", "gru", "--epochs", "1", "--out", str(tmp_path / "y.pt")]) == 1
    assert "--arch gru is for text datasets" in capsys.readouterr().err
    cfg = TrainConfig(dataset=TOY, epochs=1, iwae_k=0, min_count=1)
    with pytest.raises(Exception, match="unconditional"):  # the Train page's path, without the CLI
        train(cfg, tmp_path / "z.pt", {**SMALL_MODEL, "conditional": True}, progress=False)


def test_evaluate_prints_perplexity_for_a_text_model(trained, toy_corpus, capsys):
    assert evaluate_main([str(trained[1]["folder"] / "t.pt"), "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert "60 held-out sentences" in out and "perplexity" in out and "I(x; z)" in out


def test_the_language_model_baseline_learns_the_corpus(trained):
    model, meta, x_held = trained
    data = checkpoint_ids(toy_dataset(), meta)
    held = torch.as_tensor(meta["split"]["held_out_indices"]).long()
    train_idx = torch.tensor([i for i in range(len(data)) if i not in set(held.tolist())])
    lm = matching_language_model(model)
    before = evaluate_language_model(lm, x_held)["perplexity"]
    history = train_language_model(lm, data.images[train_idx], epochs=5, batch_size=32, lr=3e-3)
    after = evaluate_language_model(lm, x_held)
    assert before == pytest.approx(model.vocab_size, rel=0.3) and after["perplexity"] < before / 3
    assert history[-1]["train_nll"] < history[0]["train_nll"] and after["tokens"] == int((x_held != PAD).sum())


def test_the_text_report_compares_the_vae_with_the_language_model_on_one_split(trained, toy_corpus, tmp_path, capsys):
    from bench.text_report import main as report_main

    out_json = tmp_path / "report.json"
    assert report_main([str(trained[1]["folder"] / "t.pt"), "--k", "3", "--json", str(out_json)]) == 0
    figures = json.loads(out_json.read_text())
    vae_row, lm_row = figures["rows"]
    assert figures["heldout_sentences"] == 60 and len(lm_row["perplexity_by_epoch"]) == 6  # the VAE's 6 epochs
    assert vae_row["kl"] > 0 and vae_row["nll"] <= -vae_row["elbo"] + 1e-6  # IWAE at least as tight as the ELBO
    assert figures["perplexity_ratio"] == pytest.approx(vae_row["perplexity"] / lm_row["perplexity"])
    assert len(figures["prior_samples"]) == 10 and all(isinstance(s, str) for s in figures["prior_samples"])
    printed = capsys.readouterr().out
    assert "| GRU language model" in printed and "best held-out epoch" in printed
