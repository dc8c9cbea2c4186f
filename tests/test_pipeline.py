"""Batching: padded utterance batches and aligned vocoder segments, on the smoke corpus."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voicelab.data.manifest import Manifest, write_manifest
from voicelab.data.cache import FeatureCache
from voicelab.data.pipeline import MEL_PAD, AudioSegments, SpeechBatches, config_key
from voicelab.dsp import audio
from voicelab.dsp.features import AudioConfig, log_mel, melspectrogram
from voicelab.errors import DatasetError, ParameterError


@pytest.fixture(scope="module")
def corpus(smoke_corpus) -> Manifest:
    """The smoke corpus with absolute audio paths (so a copy of the manifest can live anywhere)."""
    return Manifest(
        [dataclasses.replace(u, path=str(smoke_corpus.audio_path(u))) for u in smoke_corpus], smoke_corpus.root
    )


def reference_mel(manifest: Manifest, utt, config=AudioConfig()) -> np.ndarray:
    y = audio.load(manifest.audio_path(utt), sr=config.sr)
    return log_mel(melspectrogram(y, config=config), floor=1e-5)


def test_batch_shapes_dtypes_lengths_and_padding(corpus):
    batches = SpeechBatches(corpus, batch_size=4, shuffle=False, bucket=False)
    assert len(batches) == -(-len(corpus) // 4)
    assert MEL_PAD == pytest.approx(-11.5129, abs=1e-4)
    batch = batches[0]
    utts = batches.utterances(0)
    assert [u.id for u in utts] == [u.id for u in corpus[:4]]
    assert sorted(batch) == sorted(
        ["tokens", "token_length", "mel", "mel_length", "audio", "audio_length", "speaker", "emotion"]
    )
    assert batch["tokens"].dtype == np.int32 and batch["mel"].dtype == np.float32 and batch["audio"].dtype == np.float32
    for key in ("token_length", "mel_length", "audio_length", "speaker", "emotion"):
        assert batch[key].dtype == np.int32 and batch[key].shape == (4,)
    assert batch["tokens"].shape == (4, batch["token_length"].max())
    assert batch["mel"].shape == (4, batch["mel_length"].max(), 80)
    assert batch["audio"].shape == (4, batch["audio_length"].max())
    for row, utt in enumerate(utts):
        n_tok, n_mel, n_audio = batch["token_length"][row], batch["mel_length"][row], batch["audio_length"][row]
        assert n_tok == len(utt.phonemes.split())
        assert n_audio == pytest.approx(utt.duration * 16000, abs=1)
        assert n_mel == 1 + n_audio // 256
        assert np.all(batch["tokens"][row, :n_tok] > 0) and np.all(batch["tokens"][row, n_tok:] == 0)
        np.testing.assert_allclose(batch["mel"][row, :n_mel], reference_mel(corpus, utt), atol=1e-5)
        assert np.all(batch["mel"][row, n_mel:] == np.float32(np.log(1e-5)))
        assert np.all(batch["audio"][row, n_audio:] == 0)
        assert batch["speaker"][row] == batches.speaker_ids[utt.speaker]
        assert batch["emotion"][row] == batches.emotion_ids[utt.emotion]


def test_ids_are_the_sorted_vocabularies_and_can_be_shared(corpus):
    batches = SpeechBatches(corpus, batch_size=8)
    assert batches.speaker_ids == {s: i for i, s in enumerate(sorted({u.speaker for u in corpus}))}
    assert batches.emotion_ids == {e: i for i, e in enumerate(sorted({u.emotion for u in corpus}))}
    one_speaker = corpus.filter(speaker=corpus.speakers[-1])
    alone = SpeechBatches(one_speaker, batch_size=8)
    shared = SpeechBatches(one_speaker, batch_size=8, speakers=corpus.speakers, emotions=corpus.emotions)
    assert alone.speaker_ids == {corpus.speakers[-1]: 0}
    assert set(shared[0]["speaker"]) == {len(corpus.speakers) - 1}
    with pytest.raises(ParameterError, match="not in speakers="):
        SpeechBatches(corpus, speakers=["nobody"])


def test_order_is_deterministic_per_seed_and_epoch(corpus):
    def epochs(seed, n=2):
        batches = SpeechBatches(corpus, batch_size=4, seed=seed)
        out = []
        for _ in range(n):
            out.append([[u.id for u in batches.utterances(i)] for i in range(len(batches))])
            batches.on_epoch_end()
        return out

    first, again, other = epochs(0), epochs(0), epochs(1)
    assert first == again
    assert first != other
    assert first[0] != first[1]  # a new order every epoch
    assert sorted(sum(first[0], [])) == sorted(u.id for u in corpus)  # every utterance once


def test_first_two_batches_differ_in_padded_lengths(corpus):
    # Keras's TensorFlow adapter fixes every dimension the first two batches agree on.
    for seed in range(4):
        batches = SpeechBatches(corpus, batch_size=8, seed=seed, with_audio=False)
        for _ in range(3):
            first, second = batches[0], batches[1]
            assert first["mel"].shape[1] != second["mel"].shape[1]
            assert first["tokens"].shape[1] != second["tokens"].shape[1]
            batches.on_epoch_end()


def padding_seconds(batches: SpeechBatches) -> float:
    total = 0.0
    for i in range(len(batches)):
        durations = [u.duration for u in batches.utterances(i)]
        total += sum(max(durations) - d for d in durations)
    return total


def test_bucketing_reduces_padding(corpus):
    plain = SpeechBatches(corpus, batch_size=4, bucket=False)
    bucketed = SpeechBatches(corpus, batch_size=4, bucket=True)
    assert padding_seconds(bucketed) < 0.5 * padding_seconds(plain)
    # still shuffled: the batches do not come shortest first
    firsts = [bucketed.utterances(i)[0].duration for i in range(len(bucketed))]
    assert firsts != sorted(firsts)
    # actual padded frames agree
    frames = sum(b["mel"].shape[0] * b["mel"].shape[1] - b["mel_length"].sum() for b in (bucketed[0], bucketed[1]))
    assert frames < sum(b["mel"].shape[0] * b["mel"].shape[1] - b["mel_length"].sum() for b in (plain[0], plain[1]))


def test_cache_hit_gives_identical_arrays(corpus, tmp_path):
    cold = SpeechBatches(corpus, batch_size=4, cache_dir=tmp_path)
    first = cold[0]
    assert cold.features.misses == 4 and cold.features.hits == 0
    warm = SpeechBatches(corpus, batch_size=4, cache_dir=tmp_path)
    second = warm[0]
    assert warm.features.hits == 4 and warm.features.misses == 0
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    folder = tmp_path / f"logmel-{config_key(AudioConfig())}"
    assert len(list(folder.glob("*.npy"))) == 4
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary file
    # another config never reads these features
    other = SpeechBatches(corpus, batch_size=4, cache_dir=tmp_path, config=AudioConfig(n_mels=40))
    assert other[0]["mel"].shape[-1] == 40 and other.features.hits == 0
    # mel only: with the mels cached, no audio is read
    mel_only = SpeechBatches(corpus, batch_size=4, cache_dir=tmp_path, with_audio=False)
    batch = mel_only[0]
    assert "audio" not in batch and mel_only.features.hits == 4
    np.testing.assert_array_equal(batch["mel"], first["mel"])
    # a broken entry is recomputed, not served
    entry = next(folder.glob("*.npy"))
    entry.write_bytes(b"not a npy")
    again = SpeechBatches(corpus, batch_size=4, cache_dir=tmp_path)
    np.testing.assert_array_equal(again[0]["mel"], first["mel"])
    assert again.features.misses == 1


def test_other_sample_rates_are_resampled_and_cached(corpus, tmp_path):
    utt = corpus[0]
    y = audio.load(corpus.audio_path(utt), sr=24000)
    path = audio.save(tmp_path / "at24k.wav", y, sr=24000)
    at24k = Manifest([dataclasses.replace(utt, path=str(path), sr=24000)], tmp_path)
    batches = SpeechBatches(at24k, batch_size=1, cache_dir=tmp_path / "cache")
    batch = batches[0]
    assert batch["audio_length"][0] == pytest.approx(utt.duration * 16000, abs=2)
    reference = reference_mel(corpus, utt)[: batch["mel_length"][0]]
    # the resampler's anti-alias filter takes the top bands (near 8 kHz): compare below them
    np.testing.assert_allclose(batch["mel"][0, :, :72], reference[:, :72], atol=0.5)
    assert len(list((tmp_path / "cache" / "audio-16000").glob("*.npy"))) == 1


def test_fill_in_worker_processes_matches_clip_by_clip(corpus, tmp_path):
    utts = list(corpus)[:12]
    filled = FeatureCache(corpus, AudioConfig(), tmp_path)
    assert filled.fill(utts, kinds=("mel", "f0"), workers=2) == 12
    assert not list(tmp_path.rglob("*.tmp"))
    plain = FeatureCache(corpus, AudioConfig())   # no cache: computed here, clip by clip
    for u in utts:
        # a worker's BLAS may sum in another order than this process's: float32 rounding apart
        np.testing.assert_allclose(filled.mel(u), plain.mel(u), atol=1e-5)
        np.testing.assert_array_equal(filled.f0(u), plain.f0(u))
    assert filled.hits == 24 and filled.misses == 0
    # what is stored is left alone; a missing entry (an interrupted fill) is all that is computed
    assert filled.fill(utts, kinds=("mel", "f0"), workers=2) == 0
    next((tmp_path / f"f0-{config_key(AudioConfig())}").glob("*.npy")).unlink()
    assert filled.fill(utts, kinds=("mel", "f0"), workers=1) == 1


def test_fill_stores_resampled_audio_and_refuses_bad_arguments(corpus, tmp_path):
    config = AudioConfig(sr=22050)   # the corpus is at 16 kHz: every clip is resampled once
    cache = FeatureCache(corpus, config, tmp_path)
    utts = list(corpus)[:3]
    assert cache.fill(utts, workers=1) == 3
    assert len(list((tmp_path / "audio-22050").glob("*.npy"))) == 3
    np.testing.assert_array_equal(cache.mel(utts[0]), FeatureCache(corpus, config, tmp_path / "other").mel(utts[0]))
    with pytest.raises(ParameterError, match="each must be one of mel, f0"):
        cache.fill(utts, kinds=("mfcc",))
    with pytest.raises(ParameterError, match="workers=0 must be a whole number"):
        cache.fill(utts, workers=0)
    with pytest.raises(ParameterError, match="make the FeatureCache with a cache_dir"):
        FeatureCache(corpus, config).fill(utts)


def test_max_seconds_map_fn_and_bad_arguments(corpus):
    limit = float(np.median([u.duration for u in corpus]))
    short = SpeechBatches(corpus, batch_size=64, max_seconds=limit, map_fn=lambda b: (b["tokens"], b["mel_length"]))
    assert 0 < len(short.manifest) < len(corpus) and all(u.duration <= limit for u in short.manifest)
    tokens, lengths = short[0]
    assert tokens.dtype == np.int32 and lengths.max() <= 1 + limit * 16000 // 256
    with pytest.raises(ParameterError, match="batch_size=0 must be a positive integer"):
        SpeechBatches(corpus, batch_size=0)
    with pytest.raises(DatasetError, match="0 of .* utterances are at most max_seconds=0.01"):
        SpeechBatches(corpus, max_seconds=0.01)
    assert len(SpeechBatches(corpus, batch_size=len(corpus) - 1, drop_remainder=True)) == 1


def test_segments_are_aligned(corpus):
    config = AudioConfig()
    n = 24
    segments = AudioSegments(corpus, segment_frames=n, batch_size=4, shuffle=False)
    batch = segments[0]
    assert batch["audio"].shape == (4, n * 256) and batch["mel"].shape == (4, n, 80)
    assert batch["audio"].dtype == np.float32 and batch["mel"].dtype == np.float32
    edge = config.n_fft // (2 * config.hop_length)  # frames whose window crosses the segment's edge
    for row, utt in enumerate(segments.utterances(0)):
        y, mel, start = segments.segment(row)
        np.testing.assert_array_equal(y, batch["audio"][row])
        full = audio.load(corpus.audio_path(utt), sr=16000)
        np.testing.assert_array_equal(y[: len(full) - start * 256], full[start * 256 : (start + n) * 256])
        mel_of_segment = log_mel(melspectrogram(y, config=config), floor=1e-5)
        np.testing.assert_allclose(mel_of_segment[edge : n - edge], batch["mel"][row, edge : n - edge], atol=1e-3)
    # random, reproducible starts
    starts = [segments.segment(i)[2] for i in range(8)]
    assert len(set(starts)) > 1 and starts == [segments.segment(i)[2] for i in range(8)]
    assert starts != [segments.segment(i, epoch=1)[2] for i in range(8)]


def test_segments_pair_the_audio_with_given_mels(corpus):
    plain = AudioSegments(corpus, segment_frames=16, batch_size=4, shuffle=False)
    own = {u.id: plain.features.mel(u) for u in corpus}
    given = {uid: mel + 1.0 for uid, mel in own.items()}   # any mel with the recording's frames
    segments = AudioSegments(corpus, segment_frames=16, batch_size=4, shuffle=False, mels=given)
    for row in range(4):
        y, mel, start = segments.segment(row)
        y_own, mel_own, start_own = plain.segment(row)
        assert start == start_own
        np.testing.assert_array_equal(y, y_own)   # the same audio window ...
        np.testing.assert_array_equal(mel, mel_own + 1.0)   # ... with the given mel's frames
    with pytest.raises(ParameterError, match="no mel for 1 utterances"):
        AudioSegments(corpus, mels={uid: m for uid, m in list(given.items())[1:]})
    first = corpus[0].id
    short = {**given, first: given[first][:-1]}
    with pytest.raises(ParameterError, match="frames of 80 mels"):
        AudioSegments(Manifest([corpus[0]], corpus.root), batch_size=1, mels=short)[0]


def test_short_utterances_are_padded_in_segments(corpus):
    shortest = min(corpus, key=lambda u: u.duration)
    frames = 1 + int(shortest.duration * 16000) // 256
    segments = AudioSegments(Manifest([shortest], corpus.root), segment_frames=frames + 10, batch_size=1)
    batch = segments[0]
    assert np.all(batch["mel"][0, frames:] == np.float32(MEL_PAD))
    assert np.all(batch["audio"][0, int(shortest.duration * 16000) + 1 :] == 0)

ROOT = Path(__file__).resolve().parents[1]

FIT_SCRIPT = textwrap.dedent(
    """
    import keras, numpy as np
    from voicelab.data.manifest import read_manifest
    from voicelab.data.pipeline import AudioSegments, SpeechBatches
    from voicelab.text import SYMBOLS

    manifest = read_manifest({manifest!r})
    def to_xy(b):
        return {{"tokens": b["tokens"], "speaker": b["speaker"]}}, b["mel"].mean(axis=1)
    batches = SpeechBatches(manifest, batch_size=4, map_fn=to_xy, cache_dir={cache!r})
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    speaker = keras.Input((), dtype="int32", name="speaker")
    h = keras.layers.Embedding(len(SYMBOLS), 16, mask_zero=True)(tokens)
    h = keras.layers.GlobalAveragePooling1D()(h)
    h = h + keras.layers.Embedding(len(batches.speaker_ids), 16)(speaker)
    model = keras.Model([tokens, speaker], keras.layers.Dense(80)(h))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0)

    segments = AudioSegments(manifest, segment_frames=16, batch_size=4,
                             map_fn=lambda b: (b["mel"], b["audio"][..., None]))
    mel = keras.Input((None, 80))
    wave = keras.layers.Conv1DTranspose(1, 256, strides=256, padding="same")(mel)
    vocoder = keras.Model(mel, wave)
    vocoder.compile(optimizer="adam", loss="mae")
    vocoder.fit(segments, epochs=1, steps_per_epoch=2, verbose=0)
    print("BACKEND", keras.backend.backend(), "LOSS", history.history["loss"][-1])
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_batches_train_a_keras_model_on_both_backends(corpus, tmp_path, backend):
    manifest = write_manifest(corpus, tmp_path / "manifest.jsonl")
    script = FIT_SCRIPT.format(manifest=str(manifest), cache=str(tmp_path / "cache"))
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("BACKEND"))
    assert line.split()[1] == backend and np.isfinite(float(line.split()[3]))
