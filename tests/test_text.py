"""Tests of voicelab.text: normalisation, phonemes, OOV fallback, symbol table, errors."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from voicelab.errors import ParameterError
from voicelab.text import (
    MAX_TEXT_CHARS,
    PHONES,
    PUNCTUATION,
    SYMBOLS,
    WORD_BOUNDARY,
    _lexicon,
    ids_to_phonemes,
    letter_to_sound,
    normalize_text,
    number_to_words,
    oov_report,
    phonemes_to_ids,
    split_sentences,
    text_to_ids,
    to_phonemes,
    year_to_words,
)

NORMALIZED = [
    ("Hello   World", "hello world"),
    ("Dr. Smith met Mr. and Mrs. Jones.", "doctor smith met mister and missus jones."),
    ("I live on Main St. Then I moved.", "i live on main street. then i moved."),
    ("St. Louis is far.", "saint louis is far."),
    ("Visit St. Louis on Park St. Then Elm St.", "visit saint louis on park street. then elm street."),
    ("We bought apples, pears, etc.", "we bought apples, pears, et cetera."),
    ("It costs $5.", "it costs five dollars."),
    ("It costs $1.", "it costs one dollar."),
    ("Only $2.99!", "only two dollars and ninety nine cents!"),
    ("Just $0.75", "just seventy five cents"),
    ("A $2.5 million house", "a two point five million dollars house"),
    ("Wake me at 7:30.", "wake me at seven thirty."),
    ("Wake me at 6:05 pm", "wake me at six oh five p m"),
    ("It is 12:00 now", "it is twelve o'clock now"),
    ("Call me at 9 a.m. tomorrow", "call me at nine ay m tomorrow"),
    ("Meet at 7pm.", "meet at seven p m."),
    ("On the 3rd and the 21st", "on the third and the twenty first"),
    ("He came 102nd", "he came one hundred second"),
    ("Save 50% now", "save fifty percent now"),
    ("Pi is 3.14", "pi is three point one four"),
    ("1,234 people", "one thousand two hundred thirty four people"),
    ("It was -5 degrees", "it was minus five degrees"),
    ("Born in 1999.", "born in nineteen ninety nine."),
    ("since 1905", "since nineteen oh five"),
    ("by 2005", "by two thousand five"),
    ("the 1990s and the 80s", "the nineteen nineties and the eighties"),
    ("wait 3-5 days", "wait three to five days"),
    ("agent 007", "agent zero zero seven"),
    ("“It’s fine,” she said — really…", "it's fine, she said, really."),
    ("Wait... what?!", "wait. what?"),
    ("(Maybe) not; sure: yes", "maybe, not, sure, yes"),
    ("a well-known café", "a well known cafe"),
    ("Rock & roll", "rock and roll"),
    ("The BBC and XYZ", "the bbc and x y z"),
    ("NASA launched", "nasa launched"),
    ("Hi 🙂 there", "hi there"),
    ("Model XM2 weighs 5kg", "model x m two weighs five kg"),
    ("Cats VS. dogs", "cats versus dogs"),
]


@pytest.mark.parametrize("raw, expected", NORMALIZED)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("raw", [raw for raw, _ in NORMALIZED])
def test_normalize_text_is_idempotent_and_plain(raw):
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert set(once) <= set("abcdefghijklmnopqrstuvwxyz' ,.?!")


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (105, "one hundred five"),
    (1_000_000, "one million"), (2_001_042, "two million one thousand forty two"),
])
def test_number_to_words(n, words):
    assert number_to_words(n) == words


@pytest.mark.parametrize("n, words", [(1, "first"), (2, "second"), (12, "twelfth"), (20, "twentieth"),
                                      (43, "forty third"), (100, "one hundredth")])
def test_ordinals(n, words):
    assert number_to_words(n, ordinal=True) == words


@pytest.mark.parametrize("year, words", [(1999, "nineteen ninety nine"), (1900, "nineteen hundred"),
                                         (2000, "two thousand"), (2019, "twenty nineteen")])
def test_year_to_words(year, words):
    assert year_to_words(year) == words


@pytest.mark.parametrize("word, phones", [
    ("hello", "HH AH0 L OW1"),
    ("read", "R EH1 D"),  # homograph: cmudict's first pronunciation
    ("the", "DH AH0"),
    ("thermostat", "TH ER1 M AH0 S T AE2 T"),
])
def test_cmudict_lookup(word, phones):
    assert to_phonemes(word) == (phones.split(), [])


def test_punctuation_and_word_boundaries():
    phonemes, oov = to_phonemes("Hello, world. Call Anna?")
    assert " ".join(phonemes) == "HH AH0 L OW1 , W ER1 L D . K AO1 L | AE1 N AH0 ?"
    assert oov == []
    words = " ".join(phonemes).replace(",", "|").replace(".", "|").replace("?", "|").split("|")
    assert len([w for w in words if w.strip()]) == 4  # boundaries and marks split the 4 words


def test_numbers_are_phonemized_after_normalization():
    assert to_phonemes("3 cats")[0] == to_phonemes("three cats")[0]


@pytest.mark.parametrize("word, phones", [
    ("blorfing", "B L AO1 R F IH0 NG"),
    ("zimbat", "Z IH1 M B AH0 T"),
    ("phlenk", "F L EH1 NG K"),
    ("knaight", "N EY1 T"),  # silent k and gh
    ("glimes", "G L AY1 M Z"),  # silent e makes the vowel long
    ("chackett", "CH AE1 K AH0 T"),  # ck, doubled t, reduced second vowel
    ("quoach", "K W OW1 CH"),
    ("xkcd", "EH1 K S K EY1 S IY1 D IY1"),  # no vowel: spelled
])
def test_letter_to_sound_on_made_up_words(word, phones):
    assert letter_to_sound(word) == phones.split()
    assert to_phonemes(word) == (phones.split(), [word])


@pytest.mark.parametrize("word", ["cat", "ship", "time", "rain", "stone", "think", "bench", "sleep",
                                  "queen", "sharp", "dish", "chin", "soon", "black", "lake"])
def test_letter_to_sound_agrees_with_cmudict_on_regular_words(word):
    strip = [p.rstrip("012") for p in _lexicon()[word]]
    assert [p.rstrip("012") for p in letter_to_sound(word)] == strip


def test_oov_words_get_valid_symbols_and_one_primary_stress(rng):
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    for _ in range(300):
        word = "".join(rng.choice(letters, size=rng.integers(2, 11)))
        phones = letter_to_sound(word)
        assert phones and set(phones) <= set(PHONES), word
        assert sum(p.endswith("1") for p in phones) >= 1, word
        assert letter_to_sound(word) == phones  # deterministic


def test_possessive_of_known_word_is_known_but_plural_guess_is_reported():
    phonemes, oov = to_phonemes("Gus's hat")
    assert phonemes[:4] == ["G", "AH1", "S", "IH0"] and oov == []
    assert to_phonemes("zorbles and zorbles")[1] == ["zorbles", "zorbles"]


def test_symbol_table():
    assert SYMBOLS[0] == "<pad>"
    assert len(PHONES) == 69 and len(set(SYMBOLS)) == len(SYMBOLS) == 75
    assert set(PUNCTUATION) | {WORD_BOUNDARY} <= set(SYMBOLS)
    cmudict_phones = {p for pron in _lexicon().values() for p in pron}
    assert cmudict_phones == set(PHONES)


def test_symbol_round_trip(rng):
    tokens = list(rng.choice(np.array(SYMBOLS[1:]), size=200))
    ids = phonemes_to_ids(tokens)
    assert ids.dtype == np.int32 and ids.shape == (200,) and ids.min() >= 1
    assert ids_to_phonemes(ids) == tokens
    assert phonemes_to_ids(" ".join(tokens)).tolist() == ids.tolist()
    padded = np.concatenate([ids, np.zeros(5, np.int32)])
    assert ids_to_phonemes(padded) == tokens  # padding is dropped


def test_text_to_ids_matches_to_phonemes():
    text = "Set a timer for 10 minutes, please!"
    assert ids_to_phonemes(text_to_ids(text)) == to_phonemes(text)[0]


def test_bad_symbols_and_ids():
    with pytest.raises(ParameterError, match=r"XX"):
        phonemes_to_ids("HH XX OW1")
    with pytest.raises(ParameterError, match=r"empty"):
        phonemes_to_ids([])
    with pytest.raises(ParameterError, match=r"\[0, 75\).*999"):
        ids_to_phonemes([1, 999])
    with pytest.raises(ParameterError, match=r"-1"):
        ids_to_phonemes(np.array([-1]))


def test_oov_report_counts_words_in_any_corpus():
    from voicelab.data.manifest import Utterance

    utt = Utterance(id="u1", path="a.wav", speaker="slt", emotion="neutral", text="Call Zorblat now.",
                    phonemes="", duration=1.0, sr=16000, split="train", sentence_id="0001")
    assert oov_report(["Call Anna.", "Call Zorblat, Zorblat!"]) == collections.Counter(zorblat=2)
    assert oov_report([utt, "Quibbix"]) == collections.Counter(zorblat=1, quibbix=1)
    assert oov_report("hello there") == collections.Counter()


@pytest.mark.parametrize("bad, match", [
    (None, r"text=None must be a str, got NoneType"),
    (42, r"text=42 must be a str, got int"),
    (b"hello", r"text=b'hello' must be a str, got bytes"),
    ("", r"text='' is empty"),
    ("   \n\t", r"is empty or whitespace only"),
    ("?!... ,", r"'\?!\.\.\. ,' has no word to speak"),
    ("#*~^ ", r"no word to speak"),
    ("Привет мир", r"not Latin: 'П' \(CYRILLIC CAPITAL LETTER PE\), 'р' \(CYRILLIC SMALL LETTER ER\)"),
    ("hello 你好", r"'你' \(CJK UNIFIED IDEOGRAPH-4F60\)"),
    ("café αβ", r"'α' \(GREEK SMALL LETTER ALPHA\)"),
    ("word " * 120, rf"600 characters is longer than MAX_TEXT_CHARS={MAX_TEXT_CHARS}"),
])
def test_bad_text_raises(bad, match):
    with pytest.raises(ParameterError, match=match):
        normalize_text(bad)
    with pytest.raises(ParameterError, match=match):
        to_phonemes(bad)
    with pytest.raises(ParameterError, match=match):
        text_to_ids(bad)


def test_longest_accepted_text():
    text = ("a" * 9 + " ") * (MAX_TEXT_CHARS // 10)
    assert len(text) == MAX_TEXT_CHARS and normalize_text(text)


@pytest.mark.parametrize("paragraph, sentences", [
    ("Dr. Smith came at 7 p.m. He sat down. Was it late? No. 5 was.",
     ["Dr. Smith came at 7 p.m.", "He sat down.", "Was it late?", "No. 5 was."]),
    ('"Stop!" she said. J. R. Tolkien left... And then? I said no. Then e.g. this, etc. Fine!',
     ['"Stop!" she said.', "J. R. Tolkien left...", "And then?", "I said no.", "Then e.g. this, etc.", "Fine!"]),
    ("Chapter two\n\nIt was 3.5 km away.\nWe   walked.  ...", ["Chapter two", "It was 3.5 km away.", "We walked. ..."]),
    ("   ", []),
])
def test_split_sentences(paragraph, sentences):
    assert split_sentences(paragraph) == sentences


def test_long_sentences_are_cut_at_commas_then_words_and_nothing_is_lost():
    sentence = "and one more thing, " * 40 + "a last clause with " + "many words " * 60
    pieces = split_sentences(sentence)
    assert all(len(p) <= MAX_TEXT_CHARS for p in pieces) and len(pieces) == 4
    assert " ".join(pieces) == " ".join(sentence.split())
    assert pieces[0].endswith("thing,") and pieces[1].endswith("thing,")  # commas first
    assert split_sentences("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]
    for bad, match in [(42, "text=42 must be a str"), ("Hi.", "max_chars=0 must be a positive integer")]:
        with pytest.raises(ParameterError, match=match):
            split_sentences(bad, max_chars=0 if bad == "Hi." else 10)
