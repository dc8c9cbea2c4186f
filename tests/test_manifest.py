"""The manifest contract every corpus and reader shares."""

from __future__ import annotations

import dataclasses
import json

import pytest

from voicelab.data.manifest import Manifest, Utterance, read_manifest, write_manifest
from voicelab.errors import DatasetError, ParameterError
from voicelab.profiles import check_profile, pick


def make_utt(i: int, *, speaker="slt", emotion="neutral", split="train", sentence=None) -> Utterance:
    sentence_id = sentence or f"s{i:04d}"
    return Utterance(
        id=f"{speaker}_{sentence_id}_{emotion}",
        path=f"wav/{speaker}/{sentence_id}_{emotion}.wav",
        speaker=speaker,
        emotion=emotion,
        text="Call Anna.",
        phonemes="K AO1 L | AE1 N AH0 .",
        duration=1.25,
        sr=16000,
        split=split,
        sentence_id=sentence_id,
        oov=("zorblat",) if i == 0 else (),
        source="flite:slt",
    )


@pytest.fixture
def manifest_file(tmp_path):
    utts = [make_utt(0), make_utt(1, speaker="awb"), make_utt(0, speaker="awb", emotion="happy", sentence="s0000")]
    for utt in utts:
        (tmp_path / utt.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / utt.path).write_bytes(b"RIFF")
    return write_manifest(utts, tmp_path / "manifest.jsonl")


def test_round_trip_keeps_every_field(manifest_file):
    manifest = read_manifest(manifest_file)
    assert len(manifest) == 3
    assert manifest[0] == make_utt(0)
    assert manifest[0].oov == ("zorblat",)
    assert manifest.speakers == ["awb", "slt"]
    assert manifest.emotions == ["happy", "neutral"]
    assert manifest.audio_path(manifest[0]) == manifest_file.parent / "wav/slt/s0000_neutral.wav"


def test_filter_and_parallel(manifest_file):
    manifest = read_manifest(manifest_file)
    assert [u.speaker for u in manifest.filter(speaker="awb")] == ["awb", "awb"]
    assert len(manifest.filter(speaker=["awb", "slt"], emotion="neutral")) == 2
    happy = manifest.parallel(manifest[0], speaker="awb", emotion="happy")
    assert (happy.sentence_id, happy.speaker, happy.emotion) == ("s0000", "awb", "happy")
    with pytest.raises(DatasetError, match="no utterance of sentence 's0001' by speaker 'slt'"):
        manifest.parallel(manifest[1], speaker="slt")
    with pytest.raises(DatasetError, match="cannot filter on 'colour'"):
        manifest.filter(colour="red")


def _rewrite(path, mutate):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    mutate(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_row_missing_a_column_names_the_line(manifest_file):
    _rewrite(manifest_file, lambda rows: rows[1].pop("speaker"))
    with pytest.raises(DatasetError, match=r"manifest.jsonl, line 2: missing column\(s\) speaker"):
        read_manifest(manifest_file)


def test_row_pointing_to_a_missing_file(manifest_file):
    (manifest_file.parent / "wav/awb/s0001_neutral.wav").unlink()
    with pytest.raises(DatasetError, match=r"line 2: audio file not found: .*s0001_neutral.wav"):
        read_manifest(manifest_file)
    assert len(read_manifest(manifest_file, check_files=False)) == 3


def test_line_that_is_not_json(manifest_file):
    manifest_file.write_text(manifest_file.read_text() + "{not json\n")
    with pytest.raises(DatasetError, match="line 4: not valid JSON"):
        read_manifest(manifest_file)


def test_unknown_split_and_bad_numbers(manifest_file):
    _rewrite(manifest_file, lambda rows: rows[0].update(split="holdout"))
    with pytest.raises(DatasetError, match="line 1: split='holdout' is not one of train, valid, test"):
        read_manifest(manifest_file)
    _rewrite(manifest_file, lambda rows: rows[0].update(split="train", duration="long"))
    with pytest.raises(DatasetError, match="line 1: duration='long'"):
        read_manifest(manifest_file)


def test_missing_empty_and_duplicate_manifests(tmp_path):
    with pytest.raises(DatasetError, match="manifest not found: .*nowhere.jsonl"):
        read_manifest(tmp_path / "nowhere.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="manifest is empty"):
        read_manifest(tmp_path / "empty.jsonl")
    with pytest.raises(DatasetError, match="duplicate utterance id 'slt_s0000_neutral'"):
        Manifest([make_utt(0), make_utt(0)])


def test_profiles():
    assert pick("smoke", smoke=1, quick=2, full=3) == 1
    assert check_profile("full") == "full"
    with pytest.raises(ParameterError, match="profile='fast' is not one of smoke, quick, full"):
        pick("fast", smoke=1, quick=2, full=3)


def test_meta_and_held_out_splits_round_trip(tmp_path):
    utt = dataclasses.replace(make_utt(0), split="test_voices", meta={"intent": "call", "slots": {"contact": "anna"}})
    path = write_manifest([utt, make_utt(1)], tmp_path / "manifest.jsonl")
    back = read_manifest(path, check_files=False)
    assert back[0].split == "test_voices" and back[0].meta == {"intent": "call", "slots": {"contact": "anna"}}
    assert back[1].meta == {} and "meta" not in path.read_text().splitlines()[1]
    _rewrite(path, lambda rows: rows[0].update(split="test-voices"))
    with pytest.raises(DatasetError, match="split='test-voices' is not one of"):
        read_manifest(path, check_files=False)
