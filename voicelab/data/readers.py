"""Readers for speech datasets you already have on disk.

Each ``read_<name>(root, ...)`` walks a dataset folder in its published layout and
returns the same :class:`~voicelab.data.manifest.Manifest` as the offline corpus, so
every notebook runs on LJSpeech, VCTK, LibriTTS, ESD or Common Voice unchanged.
Nothing is copied: each utterance's ``path`` is the absolute path of the file inside
your dataset, so a manifest written anywhere with
:func:`~voicelab.data.manifest.write_manifest` still finds its audio.

What every reader does the same way:

- ``duration`` and ``sr`` come from the file header (:func:`soundfile.info`), fast;
- ``phonemes`` come from :func:`voicelab.text.to_phonemes`, once per distinct text;
- ``split`` is drawn per *sentence*: a hash of the normalised text (lower case,
  letters and digits only) with ``split_seed`` sends it to train / valid / test in
  about 80 / 10 / 10, so a test sentence is never heard in training, in any voice;
- ``sentence_id`` is a short hash of the same normalised text, shared by every
  rendition of a sentence (VCTK and ESD speakers read the same prompts);
- ``emotion`` is ``"neutral"`` unless the dataset labels emotions (ESD);
- text files may start with a UTF-8 byte-order mark.

Phonemising takes about 2 ms a sentence (half a minute for LJSpeech's 13,100): write
the manifest once with :func:`~voicelab.data.manifest.write_manifest` and read it back
with :func:`~voicelab.data.manifest.read_manifest` next time.

Published datasets have a few faults, and none of them stops a read. A folder in the
wrong layout (or a table without its header) raises
:class:`~voicelab.errors.DatasetError` naming what was expected. Everything smaller is
left out, or repaired where the repair is unambiguous, and reported at the end of the
read with one :class:`UserWarning` per kind of fault, which counts them and names the
first (file and line): malformed rows (ESD's rows with a space where the first tab
belongs are repaired), audio that is missing, empty or unreadable (Common Voice lists
0-byte clips; VCTK 0.80 lacks a few), missing transcripts, text voicelab cannot
pronounce, and speakers with audio but no transcripts (VCTK's p315). Audio is checked
by its header only, as for ``duration``: nothing is decoded.

Example
-------
>>> manifest = read_ljspeech("~/data/LJSpeech-1.1")        # doctest: +SKIP
>>> manifest.speakers, round(manifest.hours, 1)           # doctest: +SKIP
(['ljspeech'], 24.0)
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import itertools
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import soundfile as sf

from voicelab.data.manifest import NEUTRAL, Manifest, Utterance
from voicelab.errors import DatasetError, ParameterError

__all__ = [
    "read_common_voice",
    "read_esd",
    "read_libritts",
    "read_ljspeech",
    "read_vctk",
    "sentence_key",
    "split_of",
]

ESD_EMOTIONS = ("neutral", "angry", "happy", "sad", "surprise")
_ESD_LABELS = {*ESD_EMOTIONS, "中立", "生气", "快乐", "伤心", "惊喜"}  # the Mandarin speakers' labels


# --------------------------------------------------------------------------- shared


def sentence_key(text: str) -> str:
    """Normalise ``text`` for identity: lower case, letters and digits, single spaces.

    >>> sentence_key("Please call Stella!") == sentence_key("please  call stella")
    True
    """
    return " ".join(re.findall(r"\w+", text.lower()))


def split_of(text: str, *, seed: int = 0, valid: float = 0.1, test: float = 0.1) -> str:
    """The split of a sentence: a deterministic hash of its normalised text with ``seed``.

    >>> split_of("Please call Stella.", seed=0) in ("train", "valid", "test")
    True
    """
    digest = hashlib.sha1(f"{seed}\x00{sentence_key(text)}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test:
        return "test"
    if u < test + valid:
        return "valid"
    return "train"


def _sentence_id(text: str) -> str:
    return hashlib.sha1(sentence_key(text).encode()).hexdigest()[:10]


@dataclasses.dataclass
class _Row:
    """What a reader finds for one utterance, before headers and phonemes are read."""

    id: str
    path: Path
    speaker: str
    text: str
    where: str  # the file (and line) that named this utterance, for error messages
    emotion: str = NEUTRAL
    phonemize: bool = True


# The kinds of fault a read reports, each in one warning ("skipped <n> utterance(s) whose <kind>, e.g. ...",
# "<n> malformed row(s), <r> repaired and <s> skipped; the first: ...").
_MALFORMED = "malformed row"
_NO_AUDIO = "audio is missing"
_BAD_AUDIO = "audio is empty or unreadable"
_NO_TRANSCRIPT = "transcript is missing"
_UNSPEAKABLE = "text voicelab.text cannot phonemise"


class _Report:
    """What one read left out or repaired, by kind: ``"<file>, line <n>: <what is wrong>"``."""

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.cases: dict[str, list[str]] = {}
        self.repaired = 0

    def add(self, kind: str, case: str, *, repaired: bool = False) -> None:
        self.cases.setdefault(kind, []).append(case)
        self.repaired += repaired

    def messages(self) -> list[str]:
        """One line per kind: how many, and the first."""
        out = []
        for kind, cases in self.cases.items():
            if kind == _MALFORMED:
                skipped = len(cases) - self.repaired
                out.append(f"{self.dataset}: {len(cases)} malformed row(s), {self.repaired} repaired and "
                           f"{skipped} skipped; the first: {cases[0]}")
            else:
                out.append(f"{self.dataset}: skipped {len(cases)} utterance(s) whose {kind}, e.g. {cases[0]}")
        return out


def _build(rows: Iterable[_Row], root: Path, report: _Report, *, split_seed: int, source: str,
           limit: int | None, progress: bool) -> Manifest:
    """Read headers, phonemise each distinct text once, split by sentence; warn what was left out."""
    from tqdm.auto import tqdm

    from voicelab.text import to_phonemes

    if limit is not None and limit < 1:
        raise ParameterError(f"limit={limit} must be a positive integer or None")
    rows = list(itertools.islice(rows, limit))
    if not rows:
        faults = "".join(f"; {m}" for m in report.messages())
        raise DatasetError(f"no utterances found in {root}: is this the right folder?{faults}")
    rows = tqdm(rows, desc=source, unit="utt", disable=not progress)
    phonemes: dict[str, tuple[str, tuple[str, ...]] | str] = {}  # text -> (phonemes, oov) or why not
    items = []
    for row in rows:
        if row.phonemize and row.text not in phonemes:
            try:
                tokens, oov = to_phonemes(row.text)
                phonemes[row.text] = (" ".join(tokens), tuple(oov))
            except ParameterError as err:  # another script, or a paragraph-long row
                phonemes[row.text] = str(err)
        found = phonemes[row.text] if row.phonemize else ("", ())
        if isinstance(found, str):
            report.add(_UNSPEAKABLE, f"{row.where}: {found}")
            continue
        phones, oov = found
        info = _audio_info(row, report)
        if info is None:
            continue
        items.append(
            Utterance(
                id=row.id,
                path=str(row.path),
                speaker=row.speaker,
                emotion=row.emotion,
                text=row.text,
                phonemes=phones,
                duration=info.frames / info.samplerate,
                sr=int(info.samplerate),
                split=split_of(row.text, seed=split_seed),
                sentence_id=_sentence_id(row.text),
                oov=oov,
                source=source,
            )
        )
    if not items:
        raise DatasetError(f"no utterance in {root} could be read: " + "; ".join(report.messages()))
    for message in report.messages():
        warnings.warn(message, stacklevel=3)
    return Manifest(items, root)


def _audio_info(row: _Row, report: _Report):
    """The audio header of ``row`` (:func:`soundfile.info`), or None if it is missing, empty or unreadable."""
    if not row.path.is_file():
        report.add(_NO_AUDIO, f"{row.where}: {row.path}")
        return None
    if row.path.stat().st_size == 0:
        report.add(_BAD_AUDIO, f"{row.where}: {row.path} is empty (0 bytes)")
        return None
    try:
        info = sf.info(str(row.path))
    except RuntimeError as err:  # soundfile.LibsndfileError
        report.add(_BAD_AUDIO, f"{row.where}: cannot read {row.path}: {err}")
        return None
    if info.frames < 1 or info.samplerate < 1:
        report.add(_BAD_AUDIO, f"{row.where}: {row.path} has no samples")
        return None
    return info


def _root(root: str | os.PathLike, name: str) -> Path:
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise DatasetError(f"{name} folder not found: {path}")
    return path


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetError(f"no {path.name} in {path.parent}: not {what}")
    return path


def _lines(path: Path, report: _Report) -> Iterator[tuple[str, str]]:
    """``(where, line)`` for each non-blank line of a UTF-8 text file, a byte-order mark dropped.

    A line that is not UTF-8 is reported malformed and left out, not the whole file.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            where = f"{path}, line {lineno}"
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                report.add(_MALFORMED, f"{where}: not UTF-8 ({err.reason})")
                continue
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            if line.strip():
                yield where, line


def _read_text(path: Path, report: _Report) -> str | None:
    """A one-sentence text file (VCTK, LibriTTS), whitespace collapsed; None if empty or not UTF-8."""
    try:
        text = " ".join(path.read_text(encoding="utf-8-sig").split())
    except UnicodeDecodeError as err:
        report.add(_MALFORMED, f"{path}, line 1: not UTF-8 text ({err.reason})")
        return None
    if not text:
        report.add(_MALFORMED, f"{path}, line 1: empty transcript")
        return None
    return text


# --------------------------------------------------------------------------- LJSpeech


def read_ljspeech(
    root: str | os.PathLike, *, split_seed: int = 0, limit: int | None = None, progress: bool = True
) -> Manifest:
    """Read LJSpeech 1.1: ``metadata.csv`` (``id|raw text|normalized text``) and ``wavs/<id>.wav``.

    One speaker, ``"ljspeech"``. ``text`` is the normalised column (numbers and
    abbreviations spelled out), or the raw one where a row has only two columns.

    Parameters
    ----------
    root : path-like
        The ``LJSpeech-1.1`` folder.
    split_seed : int
        Seed of the sentence split.
    limit : int, optional
        Keep only the first ``limit`` rows (a quick look at a big dataset); every
        reader takes it.
    progress : bool
        Show a tqdm progress bar (every reader takes it).

    Raises
    ------
    DatasetError
        No ``metadata.csv`` or ``wavs/``, or no row that could be read. A row without
        2 or 3 ``|``-separated fields, or whose wav is missing, is left out with a
        warning naming the file and line.
    """
    root = _root(root, "LJSpeech")
    metadata = _require(root / "metadata.csv", "an LJSpeech folder")
    wavs = _require(root / "wavs", "an LJSpeech folder")
    report = _Report("LJSpeech")

    def rows():
        for where, line in _lines(metadata, report):
            fields = [field.strip() for field in line.split("|")]
            if len(fields) not in (2, 3) or not fields[0]:
                report.add(_MALFORMED, f"{where}: expected 'id|raw text|normalized text', got {line[:80]!r}")
            elif not (fields[-1] or fields[1]):
                report.add(_MALFORMED, f"{where}: empty transcript for {fields[0]}")
            else:
                yield _Row(fields[0], wavs / f"{fields[0]}.wav", "ljspeech", fields[-1] or fields[1], where)

    return _build(rows(), root, report, split_seed=split_seed, source="ljspeech", limit=limit, progress=progress)


# --------------------------------------------------------------------------- VCTK


def read_vctk(
    root: str | os.PathLike,
    *,
    split_seed: int = 0,
    mic: str = "mic1",
    speakers: Sequence[str] | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> Manifest:
    """Read VCTK, detecting the release from its audio folder.

    - 0.80: ``txt/pXXX/pXXX_YYY.txt`` and ``wav48/pXXX/pXXX_YYY.wav`` (48 kHz wav);
    - 0.92: ``txt/pXXX/pXXX_YYY.txt`` and
      ``wav48_silence_trimmed/pXXX/pXXX_YYY_mic1.flac`` (and ``_mic2``).

    Utterance ids are ``pXXX_YYY`` in both; speakers are the folder names. Every
    speaker reads the same prompts, so ``sentence_id`` links the parallel renditions.
    Texts without audio (a few in each release) are skipped with a warning, and so
    are speakers with audio but no transcripts (p315 in both releases), named in one.
    ``speaker-info.txt`` (age, gender, accent) is not needed and not read.

    Parameters
    ----------
    root : path-like
        The VCTK folder (``VCTK-Corpus`` or ``VCTK-Corpus-0.92``).
    mic : {"mic1", "mic2"}
        Which microphone of 0.92 to read (0.80 has one).
    speakers : sequence of str, optional
        Read only these speakers, e.g. ``["p225", "p226"]``.
    """
    if mic not in ("mic1", "mic2"):
        raise ParameterError(f"mic={mic!r} must be 'mic1' or 'mic2'")
    root = _root(root, "VCTK")
    txt = _require(root / "txt", "a VCTK folder (expected txt/ and wav48/ or wav48_silence_trimmed/)")
    if (root / "wav48_silence_trimmed").is_dir():
        audio, pattern, source = root / "wav48_silence_trimmed", "{}_" + mic + ".flac", f"vctk-0.92:{mic}"
    elif (root / "wav48").is_dir():
        audio, pattern, source = root / "wav48", "{}.wav", "vctk-0.80"
    else:
        raise DatasetError(
            f"no wav48/ (VCTK 0.80) or wav48_silence_trimmed/ (VCTK 0.92) in {root}: not a VCTK folder"
        )
    speaker_dirs = sorted(p for p in txt.iterdir() if p.is_dir())
    transcribed = {p.name for p in speaker_dirs if any(p.glob("*.txt"))}
    untranscribed = sorted(p.name for p in audio.iterdir() if p.is_dir() and p.name not in transcribed)
    wanted = None if speakers is None else set(speakers)
    if wanted is not None:
        unknown = sorted(wanted - {p.name for p in speaker_dirs})
        if unknown:
            silent = [s for s in unknown if s in untranscribed]
            hint = f" ({', '.join(silent)}: audio in {audio} but no transcripts)" if silent else ""
            raise ParameterError(f"speakers={unknown} not found in {txt}{hint}")
        untranscribed = [s for s in untranscribed if s in wanted]
    if untranscribed:
        warnings.warn(
            f"VCTK: skipped {len(untranscribed)} speaker(s) with audio in {audio} but no transcripts in "
            f"{txt}: {', '.join(untranscribed)}",
            stacklevel=2,
        )
    report = _Report("VCTK")

    def rows():
        for speaker_dir in speaker_dirs:
            if wanted is not None and speaker_dir.name not in wanted:
                continue
            for text_file in sorted(speaker_dir.glob("*.txt")):
                wav = audio / speaker_dir.name / pattern.format(text_file.stem)
                if not wav.is_file():
                    report.add(_NO_AUDIO, str(wav))
                elif (text := _read_text(text_file, report)) is not None:
                    yield _Row(text_file.stem, wav, speaker_dir.name, text, str(text_file))

    return _build(rows(), root, report, split_seed=split_seed, source=source, limit=limit, progress=progress)


# --------------------------------------------------------------------------- LibriTTS


def read_libritts(
    root: str | os.PathLike,
    *,
    split_seed: int = 0,
    subsets: Sequence[str] | None = None,
    text: str = "normalized",
    limit: int | None = None,
    progress: bool = True,
) -> Manifest:
    """Read LibriTTS: ``<subset>/<speaker>/<chapter>/<speaker>_<chapter>_<utt>.wav``.

    Each wav has ``.normalized.txt`` and ``.original.txt`` beside it (``text`` picks
    which). The speaker is the folder name. ``root`` may be the ``LibriTTS`` folder
    holding subsets (``train-clean-100``, ``dev-clean``, ...) or one subset folder.
    LibriTTS's own subsets are not the manifest's splits: those are drawn by sentence,
    as for every reader.

    Parameters
    ----------
    subsets : sequence of str, optional
        Subset folders to read (default: every one found).
    text : {"normalized", "original"}
        Which transcript to use.
    """
    if text not in ("normalized", "original"):
        raise ParameterError(f"text={text!r} must be 'normalized' or 'original'")
    root = _root(root, "LibriTTS")

    def is_speaker(p: Path) -> bool:
        return p.is_dir() and p.name.isdigit()

    if any(is_speaker(p) for p in root.iterdir()):
        subset_dirs = [root]
    else:
        subset_dirs = sorted(p for p in root.iterdir() if p.is_dir() and any(map(is_speaker, p.iterdir())))
        if subsets is not None:
            found = {p.name for p in subset_dirs}
            unknown = [s for s in subsets if s not in found]
            if unknown:
                raise DatasetError(f"no LibriTTS subset {unknown[0]!r} in {root}; found {sorted(found)}")
            subset_dirs = [p for p in subset_dirs if p.name in subsets]
    if not subset_dirs:
        raise DatasetError(
            f"no <subset>/<speaker>/<chapter>/ folders in {root}: not a LibriTTS folder "
            "(expected e.g. train-clean-100/19/198/19_198_000000_000000.wav)"
        )
    report = _Report("LibriTTS")

    def rows():
        for subset in subset_dirs:
            for wav in sorted(subset.glob("*/*/*.wav")):
                speaker, chapter = wav.parent.parent.name, wav.parent.name
                text_file = wav.with_name(f"{wav.stem}.{text}.txt")
                if not wav.stem.startswith(f"{speaker}_{chapter}_"):
                    report.add(_MALFORMED, f"{wav}: name does not start with <speaker>_<chapter>_ "
                                           f"({speaker}_{chapter}_)")
                elif not text_file.is_file():
                    report.add(_NO_TRANSCRIPT, str(text_file))
                elif (sentence := _read_text(text_file, report)) is not None:
                    yield _Row(wav.stem, wav, speaker, sentence, str(text_file))

    return _build(rows(), root, report, split_seed=split_seed, source="libritts", limit=limit, progress=progress)


# --------------------------------------------------------------------------- ESD


def read_esd(
    root: str | os.PathLike,
    *,
    split_seed: int = 0,
    language: str = "en",
    limit: int | None = None,
    progress: bool = True,
) -> Manifest:
    """Read the Emotional Speech Dataset (ESD).

    Layout: ``<speaker>/<speaker>.txt`` with tab-separated ``utt_id, text, emotion``
    rows, and audio in ``<speaker>/<Emotion>/<utt_id>.wav`` or, in some releases,
    ``<speaker>/<Emotion>/{train,evaluation,test}/<utt_id>.wav`` (both are read; ESD's
    own subsets are ignored, the split is by sentence). Emotions are the folder names
    lower-cased: neutral, angry, happy, sad, surprise.

    Speakers 0001-0010 speak Mandarin, 0011-0020 English. By default only the English
    speakers are read (``language="en"``): voicelab's phonemes are English. With
    ``language="zh"`` or ``"all"`` the Mandarin utterances are included with empty
    ``phonemes``.

    The transcripts come in UTF-8, UTF-16 or GB18030, and about 15 rows of speakers
    0012-0015 have spaces where the first tab belongs (``0012_000123 Text.<TAB>Happy``):
    those are repaired, as is a row whose emotion label follows the text after a
    space. A row that cannot be repaired without guessing (two fields, an emotion label
    that disagrees with the folder its audio is in) is left out. Both are counted in
    one warning that names the first.

    Raises
    ------
    DatasetError
        No speaker folders, a missing ``<speaker>.txt``, or one in none of the
        encodings above.
    """
    if language not in ("en", "zh", "all"):
        raise ParameterError(f"language={language!r} must be 'en', 'zh' or 'all'")
    root = _root(root, "ESD")
    speaker_dirs = sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name))
    if not speaker_dirs:
        raise DatasetError(f"no speaker folders 0001 ... 0020 in {root}: not an ESD folder")

    def english(speaker: str) -> bool:
        return int(speaker) > 10

    keep = {"en": english, "zh": lambda s: not english(s), "all": lambda s: True}[language]
    report = _Report("ESD")

    def rows():
        for speaker_dir in speaker_dirs:
            speaker = speaker_dir.name
            if not keep(speaker):
                continue
            table = _require(speaker_dir / f"{speaker}.txt", "an ESD speaker folder")
            audio = {wav.stem: wav for wav in [*speaker_dir.glob("*/*.wav"), *speaker_dir.glob("*/*/*.wav")]}
            for where, utt_id, text, label in _esd_rows(table, report):
                wav = audio.get(utt_id)
                if wav is None:
                    report.add(_NO_AUDIO, f"{speaker_dir}/<Emotion>/{utt_id}.wav")
                    continue
                emotion_dir = wav.parent if wav.parent.parent == speaker_dir else wav.parent.parent
                emotion = emotion_dir.name.lower()
                if label.lower() in ESD_EMOTIONS and label.lower() != emotion:
                    report.add(_MALFORMED, f"{where}: emotion {label!r} but the audio is in {emotion_dir}")
                    continue
                yield _Row(utt_id, wav, speaker, text, where, emotion=emotion, phonemize=english(speaker))

    return _build(rows(), root, report, split_seed=split_seed, source="esd", limit=limit, progress=progress)


def _esd_rows(table: Path, report: _Report) -> Iterator[tuple[str, str, str, str]]:
    """``(where, utt_id, text, emotion label)`` for each row that is, or can be repaired to, three fields."""
    raw = table.read_bytes()
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DatasetError(f"{table}: not UTF-8, UTF-16 or GB18030 text")
    for lineno, line in enumerate(content.splitlines(), start=1):
        where = f"{table}, line {lineno}"
        fields = [field.strip() for field in line.split("\t") if field.strip()]
        if len(fields) == 3 and not re.search(r"\s", fields[0]):
            yield (where, *fields)
        elif fields:
            repaired = _repair_esd_row(line)
            got = f"expected 'utt_id<TAB>text<TAB>emotion', got {line.strip()[:80]!r}"
            report.add(_MALFORMED, f"{where}: {got}" + (", read as three fields" if repaired else ""),
                       repaired=repaired is not None)
            if repaired:
                yield (where, *repaired)


def _repair_esd_row(line: str) -> tuple[str, str, str] | None:
    """``(utt_id, text, label)`` of a row with spaces where a tab belongs, or None where that is a guess.

    The id has a fixed form (``0012_000123``), so spaces after it end it; the label, one
    of ESD's, is after the one tab left, or else the last word.
    """
    m = re.fullmatch(r"\s*(\d{4}_\d{6})\s+(.*?)\s*", line)
    if m is None:
        return None
    rest = [field.strip() for field in m[2].split("\t") if field.strip()]
    if len(rest) == 1:
        rest = rest[0].rsplit(None, 1)
    if len(rest) != 2 or rest[1].lower() not in _ESD_LABELS:
        return None
    return m[1], " ".join(rest[0].split()), rest[1]


# --------------------------------------------------------------------------- Common Voice


def read_common_voice(
    root: str | os.PathLike,
    *,
    split_seed: int = 0,
    tsv: str | Sequence[str] | None = None,
    lang: str | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> Manifest:
    """Read a Common Voice language folder: ``<lang>/validated.tsv`` and ``<lang>/clips/``.

    The tsv files have a header with at least ``client_id``, ``path`` and
    ``sentence``; audio is ``clips/<path>`` (mp3, read by libsndfile >= 1.1 through
    soundfile). The speaker is an 8-hex-digit hash of ``client_id`` (the ids are long
    and anonymous anyway). Common Voice's own train/dev/test are not the manifest's
    splits: those are drawn by sentence, as for every reader. voicelab's phonemes are
    English: for a language folder not named ``en``, ``phonemes`` is left empty.

    Some releases list clips of 0 bytes (hundreds in releases 3 and 4): they are left
    out with a warning, as are rows with an empty ``client_id``, ``path`` or
    ``sentence``, or with fields beyond the header's. A row short of the header's
    trailing columns is read with those empty.

    Parameters
    ----------
    root : path-like
        The language folder (``cv-corpus-17.0/en``), or the release folder with
        ``lang="en"`` (or holding a single language).
    tsv : str or sequence of str, optional
        Which table(s) to read. Default: ``validated.tsv`` if present, else every one
        of ``train.tsv``, ``dev.tsv``, ``test.tsv`` there is. Clips listed twice are
        read once.
    """
    root = _root(root, "Common Voice")
    tables = ("validated.tsv", "train.tsv", "dev.tsv", "test.tsv")
    if lang is not None:
        root = _root(root / lang, f"Common Voice language {lang!r}")
    elif not any((root / t).is_file() for t in tables):
        langs = [p for p in root.iterdir() if p.is_dir() and any((p / t).is_file() for t in tables)]
        if len(langs) != 1:
            raise DatasetError(
                f"no validated.tsv (or train/dev/test.tsv) in {root}: not a Common Voice language folder"
                + (f"; pass lang= one of {sorted(p.name for p in langs)}" if langs else "")
            )
        root = langs[0]
    if tsv is None:
        present = [t for t in tables if (root / t).is_file()]
        names = ["validated.tsv"] if "validated.tsv" in present else present
    else:
        names = [tsv] if isinstance(tsv, str) else list(tsv)
    clips = _require(root / "clips", "a Common Voice language folder")
    tables_read = [_require(root / name, "a Common Voice language folder") for name in names]
    english = root.name.split("-")[0].lower() == "en"
    report = _Report(f"Common Voice {root.name}")

    def rows():
        seen: set[str] = set()
        for table in tables_read:
            for where, record in _tsv_records(table, ("client_id", "path", "sentence"), report):
                clip = record["path"]
                if clip in seen:
                    continue
                seen.add(clip)
                speaker = hashlib.sha1(record["client_id"].encode()).hexdigest()[:8]
                text = " ".join(record["sentence"].split())
                yield _Row(Path(clip).stem, clips / clip, speaker, text, where, phonemize=english)

    source = f"commonvoice:{root.name}"
    return _build(rows(), root, report, split_seed=split_seed, source=source, limit=limit, progress=progress)


def _tsv_records(table: Path, required: tuple[str, ...], report: _Report) -> Iterator[tuple[str, dict]]:
    """``(where, row dict)`` for each row of a tab-separated file with a header (no quoting).

    Missing trailing fields are read as empty and empty extra ones dropped (repairs);
    a row short of a ``required`` column, or with one empty, or with text beyond the
    header, is left out. Each is reported malformed.
    """
    lines = _lines(table, report)
    where, line = next(lines, (f"{table}, line 1", ""))
    header = line.split("\t")
    absent = [c for c in required if c not in header]
    if absent:
        raise DatasetError(f"{where}: header lacks column(s) {', '.join(absent)}")
    needed = 1 + max(header.index(c) for c in required)
    for where, line in lines:
        fields = line.split("\t")
        count = f"{where}: {len(fields)} fields, the header has {len(header)}"
        if len(fields) < needed or any(f.strip() for f in fields[len(header):]):
            report.add(_MALFORMED, f"{count}, got {line[:80]!r}")
            continue
        record = dict(zip(header, fields + [""] * (len(header) - len(fields))))
        empty = [c for c in required if not record[c].strip()]
        if empty:
            report.add(_MALFORMED, f"{where}: empty {', '.join(empty)}")
            continue
        if len(fields) != len(header):
            fix = "the missing ones read as empty" if len(fields) < len(header) else "the extra ones are empty"
            report.add(_MALFORMED, f"{count}; {fix}", repaired=True)
        yield where, record
