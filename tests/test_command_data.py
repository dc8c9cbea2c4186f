"""Spoken-command datasets (voicelab.recipes.command_data): Dask shards, resume, identity, bad inputs."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voicelab.data.commands import CommandGrammar
from voicelab.data.manifest import read_manifest
from voicelab.errors import ParameterError
from voicelab.recipes.command_data import build_dataset, dataset_spec

SPEC = dict(kit_tts=False, voicegan=False)      # smoke: 48 clips in shards of 16; system voices only


def digest(folder: Path) -> str:
    """Every audio file and the manifest, bytes and names."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.flac")) + [folder / "manifest.jsonl"]:
        h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "d"
    build_dataset(out, dataset_spec("smoke", **SPEC), workers=1, progress=False)
    return out


def test_dataset_rows_match_their_files_and_labels(one_worker):
    manifest = read_manifest(one_worker / "manifest.jsonl")        # checks that every file exists
    assert len(manifest) == 48 and len({u.id for u in manifest}) == 48
    for utt in manifest:
        for name, start, end in utt.meta["spans"]:
            assert utt.text[start:end] == utt.meta["slots"][name]
        assert (one_worker / utt.meta["clean_path"]).is_file()
        assert utt.path != utt.meta["clean_path"] or not utt.meta["augmentation"].get("room")
    assert {u.split for u in manifest} >= {"train", "test_voices", "test_noise"}
    held = {u.meta["engine"] for u in manifest.filter(split="test_voices")}
    assert held <= {"espeak-klatt", "espeak-unseen-accent", "world"}
    assert all(u.meta["augmentation"]["noise"] in ("brown", "blue") for u in manifest.filter(split="test_noise"))
    card = (one_worker / "card.md").read_text()
    assert "## Audit of the augmentation's randomness: PASSED" in card and "## Coverage" in card


def test_same_dataset_from_one_worker_and_a_two_worker_cluster(one_worker, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        build_dataset(tmp_path / "d", dataset_spec("smoke", **SPEC), scheduler=cluster.scheduler_address,
                      progress=False)
    assert digest(tmp_path / "d") == digest(one_worker)


def test_a_finished_folder_is_left_alone(one_worker):
    before = {p: p.stat().st_mtime_ns for p in one_worker.rglob("*") if p.is_file()}
    build_dataset(one_worker, dataset_spec("smoke", **SPEC), workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in one_worker.rglob("*") if p.is_file()} == before


def test_a_killed_run_resumes_without_redoing_finished_shards(one_worker, tmp_path):
    out = tmp_path / "d"
    cmd = [sys.executable, "-m", "voicelab", "synth-data", "--profile", "smoke", "--out", str(out),
           "--workers", "1", "--quiet", "--data-dir", str(tmp_path / "no-models")]   # no TTS: system voices
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = out / "shards" / "0000.jsonl"
    deadline = time.monotonic() + 120
    while not first.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)                               # kill -9, the workers too
    proc.wait()
    assert first.is_file(), proc.stderr.read().decode()[-2000:]
    assert not (out / "manifest.jsonl").is_file()
    finished = first.stat().st_mtime_ns
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert first.stat().st_mtime_ns == finished                         # not redone
    assert digest(out) == digest(one_worker)


@pytest.mark.parametrize("changes, message", [
    (dict(size=0), "size=0 must be a positive number of clips"),
    (dict(size=-5), "size=-5 must be a positive number of clips"),
    (dict(shard_size=0), "shard_size=0 must be a positive integer"),
    (dict(seed=-1), "seed=-1 must be a non-negative integer"),
])
def test_bad_sizes_are_refused(changes, message):
    with pytest.raises(ParameterError, match=message):
        dataset_spec("smoke", **changes)


def test_bad_output_and_bad_grammars_leave_nothing(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    with pytest.raises(ParameterError, match="is a file: give a folder"):
        build_dataset(a_file, dataset_spec("smoke", **SPEC), progress=False)
    with pytest.raises(ParameterError, match="unknown slot"):
        CommandGrammar.from_rules({"call": 1.0}, {"call": [(1.0, "call {contakt}")]}, {"contact": ("anna",)})
    with pytest.raises(ParameterError, match="zero"):
        CommandGrammar.from_rules({"call": 0.0}, {"call": [(1.0, "call {contact}")]}, {"contact": ("anna",)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def _backend_state():
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.framework import config as tf_config

        return tf.config.functions_run_eagerly(), tf_config.is_op_determinism_enabled()
    import torch

    return torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()


@pytest.mark.backend
def test_the_kit_speakers_deterministic_mode_ends_with_its_sentence():
    """A notebook that lets the kit's TTS speak a demo sentence must still train at full speed after it."""
    from voicelab.recipes.command_data import _deterministic_backend

    before = _backend_state()
    with _deterministic_backend():
        during = _backend_state()
    assert during != before and _backend_state() == before
    with pytest.raises(KeyError), _deterministic_backend():     # restored after an error too
        raise KeyError("x")
    assert _backend_state() == before


def test_voicegan_voices_join_the_pool_with_their_share_and_speak_only_through_the_kit():
    from voicelab.data.command_voices import ENGINE_SHARES, VOICEGAN_VOICES, render, voice_pool

    plain, with_gan = voice_pool(seed=3), voice_pool(seed=3, voicegan=True)
    gan = [v for v in with_gan.train if v.engine == "voicegan"]
    assert len(gan) == VOICEGAN_VOICES and with_gan.held_out == plain.held_out
    assert [v.generated for v in gan] == list(range(VOICEGAN_VOICES))
    assert {v.speaker.engine for v in gan} == {"flite"}           # each re-speaks a flite voice
    params = gan[1].params()
    assert params["generated"] == 1 and params["source"].startswith("voicegan:1<-") and params["engine"] == "voicegan"
    assert "voicegan" not in plain.engine_shares and with_gan.engine_shares["voicegan"] == ENGINE_SHARES["voicegan"]
    with pytest.raises(ParameterError, match="pass kit="):
        render(gan[0], "call anna")


def test_asking_for_voicegan_voices_without_notebook_05s_models_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "d"
    with pytest.raises(ParameterError, match="notebook 05"):
        build_dataset(out, dataset_spec("smoke", kit_tts=False, voicegan=True), data_dir=tmp_path / "empty",
                      progress=False)
    assert not out.exists()


def test_the_card_gives_each_engines_share_of_the_sentences(one_worker):
    from voicelab.data.command_voices import voice_pool

    shares = voice_pool(seed=0, voicegan=True).shares()
    assert abs(sum(shares.values()) - 1) < 1e-9 and abs(shares["voicegan"] - 0.1 / 0.9) < 1e-9   # no kit-tts here
    card = (one_worker / "card.md").read_text(encoding="utf-8")
    assert "each engine's share of the\n  training sentences: flite 0.312, espeak 0.437, world 0.250" in card
