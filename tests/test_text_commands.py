"""The command lines on a sentence VAE: maps precomputed, a bundle refused in words."""

from __future__ import annotations

import pytest
from text_models import train_text_model, write_text_corpus

from vae.bundle.__main__ import main as bundle_main


@pytest.fixture(scope="module")
def text_checkpoint(tmp_path_factory):
    corpus = write_text_corpus(tmp_path_factory.mktemp("corpus"))
    return train_text_model(corpus, tmp_path_factory.mktemp("models") / "tiny-text.pt", steps=50)


def test_a_text_model_is_not_made_a_bundle(text_checkpoint, tmp_path, capsys):
    assert bundle_main([str(text_checkpoint), "--out", str(tmp_path / "out")]) != 0
    assert "is a text model (a sentence VAE)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_maps_of_a_text_model_are_precomputed(text_checkpoint, capsys):
    from vae.project import main as project_main

    assert project_main([str(text_checkpoint), "--method", "pca", "--points", "14"]) == 0
    assert list((text_checkpoint.parent / ".cache").glob("tiny-text-*-pca-2d-s0-n14.npz"))
