"""Dataset readers: each on a tiny copy of the dataset's exact layout, built from corpus audio."""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from voicelab.data.manifest import SPLITS, read_manifest, write_manifest
from voicelab.data.readers import (
    read_common_voice,
    read_esd,
    read_libritts,
    read_ljspeech,
    read_vctk,
    sentence_key,
    split_of,
)
from voicelab.dsp import audio
from voicelab.errors import DatasetError, ParameterError
from voicelab.text import to_phonemes


@pytest.fixture(scope="module")
def clips(smoke_corpus):
    """Three neutral sentences by two corpus speakers: {speaker: [(text, samples at 16 kHz)]}."""
    neutral = smoke_corpus.filter(emotion="neutral")
    speakers = neutral.speakers[:2]
    sentences = sorted({u.sentence_id for u in neutral.filter(speaker=speakers[0])})[:3]
    out = {}
    for speaker in speakers:
        out[speaker] = []
        for sid in sentences:
            utt = next(u for u in neutral if u.speaker == speaker and u.sentence_id == sid)
            out[speaker].append((utt.text, audio.load(smoke_corpus.audio_path(utt), sr=16000)))
    return out


def put(path: Path, y: np.ndarray, sr: int) -> float:
    """Write 16 kHz samples ``y`` at rate ``sr``; return the written duration in seconds."""
    z = audio.resample(y, orig_sr=16000, target_sr=sr) if sr != 16000 else y
    audio.save(path, z, sr=sr)
    return len(z) / sr


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def read_with_warnings(reader, *args, **kwargs):
    """``(manifest, messages)``: what a reader returns, and the UserWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = reader(*args, progress=False, **kwargs)
    mine = [w for w in caught if w.category is UserWarning]
    assert all(w.filename == __file__ for w in mine)  # each warning points at the caller's line
    return manifest, [str(w.message) for w in mine]


def one(messages: list[str], pattern: str) -> str:
    """The one message that matches ``pattern`` (a read warns once per kind of fault)."""
    found = [m for m in messages if re.search(pattern, m)]
    assert len(found) == 1, (pattern, messages)
    return found[0]


def check_manifest(manifest, root: Path, durations: dict[str, float], sr: int):
    """What every reader owes: absolute paths inside the dataset, header facts, phonemes, splits."""
    assert sorted(u.id for u in manifest) == sorted(durations)
    for utt in manifest:
        path = Path(utt.path)
        assert path.is_absolute() and path.is_relative_to(root.resolve())
        assert utt.duration == pytest.approx(durations[utt.id], abs=2e-3)
        assert utt.sr == sr
        assert utt.split in SPLITS and utt.split == split_of(utt.text)
        if utt.phonemes:
            assert utt.phonemes == " ".join(to_phonemes(utt.text)[0])
    y = audio.load(manifest.audio_path(manifest[0]), sr=16000)
    assert len(y) / 16000 == pytest.approx(manifest[0].duration, abs=2e-3)


# --------------------------------------------------------------------------- splits


def test_split_is_by_normalised_sentence_and_about_80_10_10():
    assert sentence_key("  Please, call STELLA! ") == "please call stella"
    assert split_of("Please call Stella.") == split_of("please call stella")
    texts = [f"sentence number {i} of the test" for i in range(3000)]
    counts = {s: sum(split_of(t) == s for t in texts) / len(texts) for s in SPLITS}
    assert counts["train"] == pytest.approx(0.8, abs=0.03)
    assert counts["valid"] == pytest.approx(0.1, abs=0.02)
    assert counts["test"] == pytest.approx(0.1, abs=0.02)
    assert [split_of(t, seed=1) for t in texts] != [split_of(t, seed=0) for t in texts]
    assert [split_of(t, seed=1) for t in texts] == [split_of(t, seed=1) for t in texts]


# --------------------------------------------------------------------------- LJSpeech


@pytest.fixture
def ljspeech(tmp_path, clips):
    root = tmp_path / "LJSpeech-1.1"
    lines, durations = [], {}
    for i, (text, y) in enumerate(next(iter(clips.values())), start=1):
        utt_id = f"LJ001-{i:04d}"
        durations[utt_id] = put(root / "wavs" / f"{utt_id}.wav", y, 22050)
        lines.append(f"{utt_id}|{text.upper()} (raw)|{text}")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root, durations


def test_ljspeech(ljspeech, clips, tmp_path):
    root, durations = ljspeech
    before = files_under(root)
    manifest = read_ljspeech(root)
    check_manifest(manifest, root, durations, sr=22050)
    assert files_under(root) == before  # nothing copied or written
    assert manifest.speakers == ["ljspeech"] and manifest.emotions == ["neutral"]
    assert [u.text for u in manifest] == [text for text, _ in next(iter(clips.values()))]
    assert manifest[0].id == "LJ001-0001" and manifest[0].source == "ljspeech"
    # a manifest written anywhere finds the audio again
    reread = read_manifest(write_manifest(manifest, tmp_path / "elsewhere.jsonl"))
    assert list(reread) == list(manifest)
    assert len(read_ljspeech(root, limit=2)) == 2
    # a row voicelab cannot pronounce is left out, with a warning naming it
    metadata = root / "metadata.csv"
    metadata.write_text(metadata.read_text() + "LJ001-0001x|Привет мир.|Привет мир.\n")
    with pytest.warns(UserWarning, match=r"skipped 1 utterance\(s\) .* cannot phonemise, e.g. .*line 4: .*not Latin"):
        assert [u.id for u in read_ljspeech(root)] == [u.id for u in manifest]


def test_ljspeech_wrong_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no metadata.csv in .*empty: not an LJSpeech folder"):
        read_ljspeech(tmp_path / "empty")
    with pytest.raises(DatasetError, match="LJSpeech folder not found"):
        read_ljspeech(tmp_path / "missing")


def test_ljspeech_bad_rows_are_left_out_and_counted_in_one_warning(ljspeech):
    root, durations = ljspeech
    metadata = root / "metadata.csv"
    good = metadata.read_text(encoding="utf-8").splitlines()
    bad = ["LJ001-0009 no separator here", "LJ001-0010|a|b|c", b"LJ001-0011|caf\xe9|caf\xe9"]
    lines = [good[0].encode(), bad[0].encode(), good[1].encode(), bad[1].encode(), bad[2], good[2].encode()]
    metadata.write_bytes(codecs.BOM_UTF8 + b"\n".join(lines) + b"\n")  # with a byte-order mark
    manifest, messages = read_with_warnings(read_ljspeech, root)
    assert sorted(u.id for u in manifest) == sorted(durations)  # every good row, the first one too
    assert messages == [f"LJSpeech: 3 malformed row(s), 0 repaired and 3 skipped; the first: {metadata}, "
                        "line 2: expected 'id|raw text|normalized text', got 'LJ001-0009 no separator here'"]
    # a row whose wav is missing is left out too, in a warning of its own
    metadata.write_text("\n".join([*good, "LJ001-0012|Raw.|Normalized."]) + "\n")
    manifest, messages = read_with_warnings(read_ljspeech, root)
    assert len(manifest) == 3
    assert messages == [f"LJSpeech: skipped 1 utterance(s) whose audio is missing, e.g. {metadata}, line 4: "
                        f"{root / 'wavs' / 'LJ001-0012.wav'}"]
    # nothing readable is an error that says why
    metadata.write_text("LJ001-0009 no separator here\n")
    with pytest.raises(DatasetError, match=r"no utterances found in .*LJSpeech-1.1: .*1 malformed row\(s\)"):
        read_ljspeech(root)


# --------------------------------------------------------------------------- VCTK


def make_vctk(root: Path, clips, *, version: str) -> dict[str, float]:
    durations = {}
    for n, (_, utts) in enumerate(clips.items()):
        speaker = f"p{225 + n}"
        for i, (text, y) in enumerate(utts, start=1):
            utt_id = f"{speaker}_{i:03d}"
            (root / "txt" / speaker).mkdir(parents=True, exist_ok=True)
            (root / "txt" / speaker / f"{utt_id}.txt").write_text(text + "\n")
            if version == "0.80":
                durations[utt_id] = put(root / "wav48" / speaker / f"{utt_id}.wav", y, 48000)
            else:
                folder = root / "wav48_silence_trimmed" / speaker
                durations[utt_id] = put(folder / f"{utt_id}_mic1.flac", y, 48000)
                put(folder / f"{utt_id}_mic2.flac", y[: len(y) // 2], 48000)
    # a transcript whose recording is missing, as in the real releases
    (root / "txt" / "p225" / "p225_999.txt").write_text("A sentence nobody recorded.\n")
    (root / "speaker-info.txt").write_text("ID  AGE  GENDER  ACCENTS  REGION\n225  23  F  English  Southern England\n")
    return durations


@pytest.mark.parametrize("version", ["0.80", "0.92"])
def test_vctk(tmp_path, clips, version):
    root = tmp_path / f"VCTK-{version}"
    durations = make_vctk(root, clips, version=version)
    with pytest.warns(UserWarning, match=r"VCTK: skipped 1 utterance\(s\) whose audio is missing, e.g. .*p225_999"):
        manifest = read_vctk(root)
    check_manifest(manifest, root, durations, sr=48000)
    assert manifest.speakers == ["p225", "p226"] and manifest.emotions == ["neutral"]
    assert manifest[0].source == ("vctk-0.80" if version == "0.80" else "vctk-0.92:mic1")
    # parallel corpus: both speakers' renditions of a sentence share its sentence_id
    first = manifest.filter(speaker="p225")[0]
    twin = manifest.parallel(first, speaker="p226")
    assert twin.id == "p226_001" and twin.text == first.text
    assert len({u.sentence_id for u in manifest}) == 3
    if version == "0.92":
        mic2 = read_vctk(root, mic="mic2", speakers=["p226"])
        assert mic2.speakers == ["p226"] and mic2[0].path.endswith("p226_001_mic2.flac")
        assert mic2[0].duration == pytest.approx(durations["p226_001"] / 2, abs=2e-3)
        with pytest.raises(ParameterError, match="mic='mic3' must be 'mic1' or 'mic2'"):
            read_vctk(root, mic="mic3")
    with pytest.raises(ParameterError, match=r"speakers=\['p999'\] not found in .*txt"):
        read_vctk(root, speakers=["p225", "p999"])


def test_vctk_wrong_layout(tmp_path):
    (tmp_path / "txt" / "p225").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"no wav48/ \(VCTK 0.80\) or wav48_silence_trimmed/ \(VCTK 0.92\) in"):
        read_vctk(tmp_path)
    with pytest.raises(DatasetError, match=r"no txt in .*p225: not a VCTK folder"):
        read_vctk(tmp_path / "txt" / "p225")


def test_vctk_empty_transcript_is_left_out(tmp_path, clips):
    root = tmp_path / "VCTK"
    durations = make_vctk(root, clips, version="0.80")
    (root / "txt" / "p226" / "p226_002.txt").write_text("\n")
    third = list(clips.values())[1][2][0]
    (root / "txt" / "p226" / "p226_003.txt").write_text(third + "\n", encoding="utf-8-sig")  # with a BOM
    manifest, messages = read_with_warnings(read_vctk, root)
    assert sorted(u.id for u in manifest) == sorted(set(durations) - {"p226_002"})
    assert manifest.filter(speaker="p226")[-1].text == third
    empty = root / "txt" / "p226" / "p226_002.txt"
    assert one(messages, "malformed") == (f"VCTK: 1 malformed row(s), 0 repaired and 1 skipped; the first: "
                                          f"{empty}, line 1: empty transcript")


@pytest.mark.parametrize("version", ["0.80", "0.92"])
def test_vctk_speaker_without_transcripts_is_named(tmp_path, clips, version):
    """p315 has audio and no transcripts in both releases."""
    root = tmp_path / f"VCTK-{version}"
    durations = make_vctk(root, clips, version=version)
    audio = root / ("wav48" if version == "0.80" else "wav48_silence_trimmed")
    y = next(iter(clips.values()))[0][1]
    put(audio / "p315" / ("p315_001.wav" if version == "0.80" else "p315_001_mic1.flac"), y, 48000)
    manifest, messages = read_with_warnings(read_vctk, root)
    assert sorted(u.id for u in manifest) == sorted(durations) and "p315" not in manifest.speakers
    assert one(messages, r"^VCTK: skipped \d+ speaker") == (f"VCTK: skipped 1 speaker(s) with audio in {audio} but "
                                                           f"no transcripts in {root / 'txt'}: p315")
    one(messages, r"whose audio is missing, e.g. .*p225_999")
    with pytest.raises(ParameterError, match=r"speakers=\['p315'\] not found in .*txt \(p315: audio in .* but "
                                             r"no transcripts\)"):
        read_vctk(root, speakers=["p315"])
    assert read_with_warnings(read_vctk, root, speakers=["p226"])[1] == []  # p315 not asked for


# --------------------------------------------------------------------------- LibriTTS


@pytest.fixture
def libritts(tmp_path, clips):
    root = tmp_path / "LibriTTS"
    durations = {}
    for n, (_, utts) in enumerate(clips.items()):
        speaker, chapter = str(84 + n), "121123"
        subset = "dev-clean" if n == 0 else "train-clean-100"
        folder = root / subset / speaker / chapter
        for i, (text, y) in enumerate(utts):
            utt_id = f"{speaker}_{chapter}_{i:06d}_000000"
            durations[utt_id] = put(folder / f"{utt_id}.wav", y, 24000)
            (folder / f"{utt_id}.normalized.txt").write_text(text)
            (folder / f"{utt_id}.original.txt").write_text(text.upper())
    return root, durations


def test_libritts(libritts, clips):
    root, durations = libritts
    manifest = read_libritts(root)
    check_manifest(manifest, root, durations, sr=24000)
    assert manifest.speakers == ["84", "85"] and manifest.emotions == ["neutral"]
    texts = {text for utts in clips.values() for text, _ in utts}
    assert {u.text for u in manifest} == texts
    original = read_libritts(root, text="original", subsets=["dev-clean"])
    assert original.speakers == ["84"] and {u.text for u in original} <= {t.upper() for t in texts}
    one_subset = read_libritts(root / "train-clean-100")  # a subset folder works too
    assert one_subset.speakers == ["85"]
    found = r"found \['dev-clean', 'train-clean-100'\]"
    with pytest.raises(DatasetError, match=rf"no LibriTTS subset 'test-other' in .*{found}"):
        read_libritts(root, subsets=["test-other"])


def test_libritts_missing_transcript_and_wrong_layout(libritts, tmp_path):
    root, _ = libritts
    next(root.rglob("*.normalized.txt")).unlink()
    with pytest.warns(UserWarning, match=r"LibriTTS: skipped 1 utterance\(s\) whose transcript is missing"):
        assert len(read_libritts(root)) == 5
    stray = next(root.rglob("*.wav")).with_name("notes_000000.wav")  # not <speaker>_<chapter>_...
    stray.write_bytes(b"")
    manifest, messages = read_with_warnings(read_libritts, root)
    assert len(manifest) == 5 and one(messages, "malformed").endswith(
        f"the first: {stray}: name does not start with <speaker>_<chapter>_ ({stray.parent.parent.name}_121123_)")
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "84_121123_000000_000000.wav").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"no <subset>/<speaker>/<chapter>/ folders in .*flat: not a LibriTTS"):
        read_libritts(flat)


# --------------------------------------------------------------------------- ESD


MANDARIN = "打远一看，它们的确很是美丽，"


@pytest.fixture
def esd(tmp_path, clips):
    """Speakers 0011 (flat emotion folders) and 0012 (train/ subfolders), plus Mandarin 0001."""
    root = tmp_path / "ESD"
    durations = {}
    (_, a), (_, b) = clips.items()
    for speaker, utts, nested in (("0011", a, False), ("0012", b, True)):
        rows = []
        for emotion, offset in (("Neutral", 0), ("Happy", 700)):
            for i, (text, y) in enumerate(utts, start=1):
                utt_id = f"{speaker}_{offset + i:06d}"
                folder = root / speaker / emotion / ("train" if nested else "")
                durations[utt_id] = put(folder / f"{utt_id}.wav", y, 16000)
                rows.append(f"{utt_id}\t{text}\t{emotion}")
        (root / speaker / f"{speaker}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    put(root / "0001" / "Neutral" / "0001_000001.wav", a[0][1], 16000)
    (root / "0001" / "0001.txt").write_text(f"0001_000001\t{MANDARIN}\t中立\n", encoding="utf-8")
    return root, durations


def test_esd(esd):
    root, durations = esd
    manifest = read_esd(root)  # English speakers only by default
    check_manifest(manifest, root, durations, sr=16000)
    assert manifest.speakers == ["0011", "0012"]
    assert manifest.emotions == ["happy", "neutral"]
    neutral = manifest.filter(speaker="0011", emotion="neutral")[0]
    happy = manifest.parallel(neutral, emotion="happy")
    other = manifest.parallel(neutral, speaker="0012")
    assert (happy.id, other.id) == ("0011_000701", "0012_000001")
    assert happy.text == other.text == neutral.text
    everyone = read_esd(root, language="all")
    mandarin = everyone.filter(speaker="0001")[0]
    assert (mandarin.emotion, mandarin.phonemes, mandarin.text) == ("neutral", "", MANDARIN)
    assert read_esd(root, language="zh").speakers == ["0001"]
    # the transcripts come in several encodings, some rows with a trailing tab
    table = root / "0012" / "0012.txt"
    table.write_text(table.read_text(encoding="utf-8").replace("\n", "\t\n"), encoding="utf-16")
    assert [u.text for u in read_esd(root)] == [u.text for u in manifest]


def test_esd_wrong_layout(esd):
    root, _ = esd
    with pytest.raises(DatasetError, match="no speaker folders 0001 ... 0020 in .*: not an ESD folder"):
        read_esd(root / "0011")
    (root / "0011" / "0011.txt").unlink()
    with pytest.raises(DatasetError, match=r"no 0011.txt in .*0011: not an ESD speaker folder"):
        read_esd(root)


def test_esd_rows_with_spaces_for_the_first_tab_are_repaired(esd):
    """As released, about 15 rows of speakers 0012-0015 have spaces where the first tab belongs."""
    root, durations = esd
    texts = {u.id: u.text for u in read_esd(root, progress=False)}
    table = root / "0012" / "0012.txt"
    rows = table.read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace("\t", " ", 1)  # 0012_000002 Text.<TAB>Neutral
    rows[4] = rows[4].replace("\t", "   ", 1)  # several spaces
    rows[5] = rows[5].replace("\t", " ")  # no tab at all: the label is the last word
    table.write_text("\n".join(rows) + "\n", encoding="utf-16")  # 0012's file is UTF-16
    manifest, messages = read_with_warnings(read_esd, root)
    assert {u.id: u.text for u in manifest} == texts  # every row, the repaired ones with their text
    assert {u.id: u.emotion for u in manifest}["0012_000703"] == "happy"
    assert messages == [f"ESD: 3 malformed row(s), 3 repaired and 0 skipped; the first: {table}, line 2: "
                        f"expected 'utt_id<TAB>text<TAB>emotion', got {rows[1]!r}, read as three fields"]


def test_esd_rows_that_cannot_be_repaired_are_left_out(esd):
    root, durations = esd
    table = root / "0011" / "0011.txt"
    rows = table.read_text().splitlines()
    rows[0] = rows[0].rsplit("\t", 1)[0]  # no label: which field is missing is a guess
    rows[3] = rows[3].replace("\tHappy", "\tSad")  # the label disagrees with the audio's folder
    table.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")  # a BOM is not part of line 1
    manifest, messages = read_with_warnings(read_esd, root)
    assert sorted(u.id for u in manifest) == sorted(set(durations) - {"0011_000001", "0011_000701"})
    assert messages == [f"ESD: 2 malformed row(s), 0 repaired and 2 skipped; the first: {table}, line 1: "
                        f"expected 'utt_id<TAB>text<TAB>emotion', got {rows[0]!r}"]
    table.write_text("\n".join(rows[1:]) + "\n")
    manifest, messages = read_with_warnings(read_esd, root)
    assert len(manifest) == len(durations) - 2  # 0011_000001 is no longer listed at all
    assert messages == [f"ESD: 1 malformed row(s), 0 repaired and 1 skipped; the first: {table}, line 3: "
                        f"emotion 'Sad' but the audio is in {root / '0011' / 'Happy'}"]


# --------------------------------------------------------------------------- Common Voice

HEADER = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\tsegment"


@pytest.fixture
def common_voice(tmp_path, clips):
    """``cv-corpus/en`` with mp3 clips (soundfile >= 0.12 / libsndfile >= 1.1 writes and reads mp3)."""
    root = tmp_path / "cv-corpus" / "en"
    lines, durations = [HEADER], {}
    for n, (_, utts) in enumerate(clips.items()):
        client = f"{n:02d}" + "ab" * 63  # 128 hex digits, like the real ids
        for i, (text, y) in enumerate(utts):
            clip = f"common_voice_en_{100 * n + i}.mp3"
            durations[clip[:-4]] = put(root / "clips" / clip, y, 48000)
            lines.append(f'{client}\t{clip}\t"{text}"\t2\t0\t\t\t\ten\t')
    (root / "validated.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root, durations


def test_common_voice(common_voice, clips):
    root, durations = common_voice
    manifest = read_common_voice(root)
    # mp3 frames come from the decoder: allow a frame of encoder delay
    assert sorted(u.id for u in manifest) == sorted(durations)
    for utt in manifest:
        assert utt.duration == pytest.approx(durations[utt.id], abs=0.06)
        assert utt.sr == 48000 and Path(utt.path).is_relative_to(root)
    assert len(manifest.speakers) == 2 and all(re.fullmatch(r"[0-9a-f]{8}", s) for s in manifest.speakers)
    assert manifest[0].text.startswith('"')  # quotes are text, not csv quoting
    assert manifest[0].source == "commonvoice:en"
    y = audio.load(manifest.audio_path(manifest[0]), sr=16000)
    assert abs(len(y) / 16000 - manifest[0].duration) < 0.06
    # the release folder holding one language, or lang=
    assert [u.id for u in read_common_voice(root.parent)] == [u.id for u in manifest]
    assert len(read_common_voice(root.parent, lang="en", tsv="validated.tsv")) == 6


def test_common_voice_train_dev_test_and_bad_rows(common_voice, tmp_path):
    root, _ = common_voice
    rows = (root / "validated.tsv").read_text().splitlines()
    (root / "validated.tsv").unlink()
    (root / "train.tsv").write_text("\n".join(rows[:5]) + "\n")
    (root / "test.tsv").write_text("\n".join([rows[0], *rows[4:]]) + "\n")  # row 4 in both
    assert len(read_common_voice(root)) == 6
    (root / "dev.tsv").write_text(rows[0] + "\n" + "only\ttwo\n")
    with pytest.raises(DatasetError, match=r"no utterances found in .*en: is this the right folder\?; "
                                           r"Common Voice en: 1 malformed row\(s\), 0 repaired and 1 skipped; "
                                           r"the first: .*dev.tsv, line 2: 2 fields, the header has 10"):
        read_common_voice(root, tsv="dev.tsv")
    (root / "dev.tsv").write_text("client_id\tfile\tsentence\n")
    with pytest.raises(DatasetError, match=r"dev.tsv, line 1: header lacks column\(s\) path"):
        read_common_voice(root, tsv="dev.tsv")
    with pytest.raises(DatasetError, match=r"no validated.tsv \(or train/dev/test.tsv\) in .*: not a Common Voice"):
        read_common_voice(tmp_path)


def test_common_voice_empty_and_unreadable_clips_are_left_out(common_voice):
    """Releases 3 and 4 list hundreds of 0-byte clips in validated.tsv; some tables start with a BOM."""
    root, durations = common_voice
    table, clips = root / "validated.tsv", root / "clips"
    header, *rows = table.read_text().splitlines()
    for n, content in ((900, b""), (901, b""), (902, b"not an mp3 at all")):
        (clips / f"common_voice_en_{n}.mp3").write_bytes(content)
    extra = [f"{'ff' * 64}\tcommon_voice_en_{n}.mp3\tA clip nobody can hear.\t2\t0\t\t\t\ten\t"
             for n in (900, 901, 902, 903)]  # 903 is not in clips/ at all
    table.write_text("\n".join([header, extra[0], *rows[:3], *extra[1:], *rows[3:]]) + "\n", encoding="utf-8-sig")
    manifest, messages = read_with_warnings(read_common_voice, root)
    assert sorted(u.id for u in manifest) == sorted(durations)
    assert messages == [
        f"Common Voice en: skipped 3 utterance(s) whose audio is empty or unreadable, e.g. {table}, line 2: "
        f"{clips / 'common_voice_en_900.mp3'} is empty (0 bytes)",
        f"Common Voice en: skipped 1 utterance(s) whose audio is missing, e.g. {table}, line 8: "
        f"{clips / 'common_voice_en_903.mp3'}",
    ]


def test_common_voice_rows_short_of_trailing_columns_are_repaired(common_voice):
    root, durations = common_voice
    table = root / "validated.tsv"
    header, *rows = table.read_text().splitlines()
    rows[0] = rows[0].rstrip("\t")  # the empty last column dropped, as an editor may do
    rows[1] += "\t\t"  # two empty fields beyond the header
    fields = rows[2].split("\t")
    rows[2] = "\t".join([*fields[:2], "", *fields[3:]])  # empty sentence: left out
    rows[3] += "\tmore text"  # text beyond the header: which column is shifted is a guess
    table.write_text("\n".join([header, *rows]) + "\n")
    manifest, messages = read_with_warnings(read_common_voice, root)
    assert sorted(u.id for u in manifest) == sorted(set(durations) - {"common_voice_en_2", "common_voice_en_100"})
    assert messages == [f"Common Voice en: 4 malformed row(s), 2 repaired and 2 skipped; the first: {table}, "
                        "line 2: 9 fields, the header has 10; the missing ones read as empty"]
