"""The manifest: one record per utterance, shared by every corpus and reader.

A manifest is a JSON-lines file (``manifest.jsonl``), one :class:`Utterance` a line.
Audio paths are stored relative to the manifest's folder, so a corpus folder can be
moved or copied as a whole. The offline corpus (:func:`voicelab.data.build_corpus`)
and every dataset reader (:mod:`voicelab.data.readers`) produce the same records.

Introduced in ``notebooks/01_audio_features.ipynb``.

Example
-------
>>> import tempfile, pathlib
>>> utt = Utterance(id="slt_0001_neutral", path="wav/slt_0001_neutral.wav",
...                 speaker="slt", emotion="neutral", text="Call Anna.",
...                 phonemes="K AO1 L | AE1 N AH0 .", duration=0.9, sr=16000,
...                 split="train", sentence_id="0001")
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_manifest([utt], folder / "manifest.jsonl")
>>> read_manifest(folder / "manifest.jsonl", check_files=False)[0].speaker
'slt'
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from voicelab.errors import DatasetError

SPLITS = ("train", "valid", "test")
"""The splits of a corpus. A dataset may add held-out test splits named ``test_<what>``
(notebook 06: ``test_values``, ``test_phrasings``, ``test_voices``, ``test_noise``)."""


def is_split(name: str) -> bool:
    """``True`` for a split a manifest may use: one of :data:`SPLITS` or ``test_<what>``.

    >>> is_split("valid"), is_split("test_voices"), is_split("dev")
    (True, True, False)
    """
    return name in SPLITS or (name.startswith("test_") and name[5:].isidentifier())
NEUTRAL = "neutral"


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One recording and everything known about it.

    Attributes
    ----------
    id : str
        Unique within the manifest, e.g. ``"slt_0042_happy"``.
    path : str
        Audio file, relative to the manifest's folder (or absolute).
    speaker, emotion : str
        Speaker and emotion labels (``"neutral"`` when a dataset has none).
    text : str
        The sentence as written.
    phonemes : str
        Space-separated ARPAbet symbols with stress digits, punctuation as its own
        token (see :func:`voicelab.text.to_phonemes`).
    duration : float
        Seconds of audio.
    sr : int
        Sample rate of the file in Hz.
    split : str
        ``"train"``, ``"valid"`` or ``"test"``; split by sentence, so every test
        sentence is unseen in training.
    sentence_id : str
        Same value for every rendition of one sentence (parallel corpus); conversions
        are scored against the utterance with the same ``sentence_id``.
    oov : tuple of str
        Words not in cmudict, pronounced by the fallback.
    source : str
        Where the audio came from (``"flite:slt"``, ``"ljspeech"``, ...).
    meta : dict
        What a dataset knows beyond these fields, as JSON values: a spoken command's
        intent, slots and spans, the voice's and the augmentation's parameters
        (:mod:`voicelab.data.command_dataset`). Empty for the corpus.
    """

    id: str
    path: str
    speaker: str
    emotion: str
    text: str
    phonemes: str
    duration: float
    sr: int
    split: str
    sentence_id: str
    oov: tuple[str, ...] = ()
    source: str = ""
    meta: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> str:
        record = dataclasses.asdict(self)
        record["oov"] = list(self.oov)
        if not self.meta:
            del record["meta"]
        return json.dumps(record, ensure_ascii=False)


REQUIRED = tuple(f.name for f in dataclasses.fields(Utterance)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


class Manifest(Sequence[Utterance]):
    """An ordered, read-only list of utterances that knows its folder.

    ``manifest[i]`` is an :class:`Utterance`; :meth:`audio_path` resolves its file.
    Speaker and emotion vocabularies are sorted, so ids are stable across runs.
    """

    def __init__(self, utterances: Iterable[Utterance], root: str | os.PathLike = "."):
        self._items = list(utterances)
        self.root = Path(root)
        seen: set[str] = set()
        for utt in self._items:
            if utt.id in seen:
                raise DatasetError(f"duplicate utterance id {utt.id!r} in manifest at {self.root}")
            seen.add(utt.id)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return Manifest(self._items[index], self.root)
        return self._items[index]

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self._items)

    def __repr__(self) -> str:
        return (
            f"Manifest({len(self)} utterances, {len(self.speakers)} speakers, "
            f"{len(self.emotions)} emotions, root={str(self.root)!r})"
        )

    def audio_path(self, utt: Utterance) -> Path:
        """Absolute path of ``utt``'s audio file."""
        path = Path(utt.path)
        return path if path.is_absolute() else self.root / path

    @property
    def speakers(self) -> list[str]:
        return sorted({u.speaker for u in self._items})

    @property
    def emotions(self) -> list[str]:
        return sorted({u.emotion for u in self._items})

    @property
    def hours(self) -> float:
        return sum(u.duration for u in self._items) / 3600

    def filter(self, **conditions: str | Iterable[str]) -> Manifest:
        """Keep utterances whose fields match, e.g. ``filter(split="test", emotion="neutral")``.

        A condition may be a single value or a collection of accepted values.
        """
        for key in conditions:
            if key not in Utterance.__dataclass_fields__:
                raise DatasetError(f"cannot filter on {key!r}: not an Utterance field")

        def accepts(utt: Utterance) -> bool:
            for key, wanted in conditions.items():
                value = getattr(utt, key)
                if isinstance(wanted, str) or not isinstance(wanted, Iterable):
                    if value != wanted:
                        return False
                elif value not in wanted:
                    return False
            return True

        return Manifest([u for u in self._items if accepts(u)], self.root)

    def parallel(self, utt: Utterance, *, speaker: str | None = None, emotion: str | None = None) -> Utterance:
        """The rendition of ``utt``'s sentence by another speaker and/or in another emotion."""
        want_speaker = utt.speaker if speaker is None else speaker
        want_emotion = utt.emotion if emotion is None else emotion
        for other in self._items:
            if (other.sentence_id, other.speaker, other.emotion) == (utt.sentence_id, want_speaker, want_emotion):
                return other
        raise DatasetError(
            f"no utterance of sentence {utt.sentence_id!r} by speaker {want_speaker!r} "
            f"in emotion {want_emotion!r} in manifest at {self.root}"
        )


def write_manifest(utterances: Iterable[Utterance], path: str | os.PathLike) -> Path:
    """Write ``utterances`` as JSON lines to ``path`` (written whole, then renamed)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for utt in utterances:
            f.write(utt.to_json() + "\n")
    os.replace(tmp, path)
    return path


def read_manifest(path: str | os.PathLike, *, check_files: bool = True) -> Manifest:
    """Read a JSON-lines manifest, checking every row.

    Parameters
    ----------
    path : path-like
        The ``manifest.jsonl`` file.
    check_files : bool
        Also check that every audio file exists.

    Raises
    ------
    DatasetError
        For a missing file, a line that is not JSON, a row missing a column, a value of
        the wrong type, an unknown split, or (with ``check_files``) missing audio. The
        message names the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"manifest not found: {path}")
    root = path.parent
    items: list[Utterance] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DatasetError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
            missing = [name for name in REQUIRED if name not in record]
            if missing:
                raise DatasetError(f"{where}: missing column(s) {', '.join(missing)}")
            unknown = sorted(set(record) - set(Utterance.__dataclass_fields__))
            if unknown:
                raise DatasetError(f"{where}: unknown column(s) {', '.join(unknown)}")
            try:
                record["duration"] = float(record["duration"])
                record["sr"] = int(record["sr"])
            except (TypeError, ValueError):
                raise DatasetError(
                    f"{where}: duration={record['duration']!r} and sr={record['sr']!r} must be numbers"
                ) from None
            if not is_split(record["split"]):
                raise DatasetError(f"{where}: split={record['split']!r} is not one of {', '.join(SPLITS)} "
                                   "or test_<what>")
            if not isinstance(record.get("meta", {}), dict):
                raise DatasetError(f"{where}: meta must be a JSON object, got {type(record['meta']).__name__}")
            record["oov"] = tuple(record.get("oov", ()))
            utt = Utterance(**record)
            if check_files:
                audio = Path(utt.path) if Path(utt.path).is_absolute() else root / utt.path
                if not audio.is_file():
                    raise DatasetError(f"{where}: audio file not found: {audio}")
            items.append(utt)
    if not items:
        raise DatasetError(f"manifest is empty: {path}")
    return Manifest(items, root)
