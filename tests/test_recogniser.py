"""Notebook 06's recogniser: text classes, a tiny overfit, saving, padding, and its recipe (prepare,
train, kill -9 resume, evaluate, recognise) on a dataset of a few flite clips made here."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from voicelab.data.manifest import Utterance, read_manifest, write_manifest
from voicelab.errors import ParameterError
from voicelab.models.recogniser import (
    ALPHABET,
    RECOGNISER_AUDIO,
    RecogniserConfig,
    build_recogniser,
    ctc_fits,
    encode_text,
    greedy_decode,
    predict,
)

TINY = RecogniserConfig(intents=("call", "lights_on", "play_music", "weather"), conv_channels=(32,), rnn_units=32,
                        rnn_layers=1, time_stride=2, dropout=0.0, intent_units=16)
COMMANDS = [  # (text, intent, slots)
    ("call anna", "call", {"contact": "anna"}),
    ("turn on the lights in the kitchen", "lights_on", {"room": "kitchen"}),
    ("play jazz", "play_music", {"genre": "jazz"}),
    ("weather in rome", "weather", {"place": "rome"}),
]


@pytest.fixture(scope="module")
def flite_mels():
    from voicelab.data.speakers import speak
    from voicelab.dsp.features import log_melspectrogram

    voices = ("slt", "awb", "rms", "kal16")
    return [log_melspectrogram(speak(v, t), config=RECOGNISER_AUDIO) for v, (t, _, _) in zip(voices, COMMANDS)]


def targets(texts, intents, names):
    labels = [encode_text(t) for t in texts]
    padded = np.zeros((len(labels), max(map(len, labels))), "int32")
    for row, label in enumerate(labels):
        padded[row, : len(label)] = label
    return {"labels": padded, "label_length": np.array([len(x) for x in labels], "int32"),
            "intent": np.array([names.index(i) for i in intents], "int32")}


def inputs(mels):
    longest = max(len(m) for m in mels)
    return {"mel": np.stack([np.pad(m, ((0, longest - len(m)), (0, 0))) for m in mels]),
            "mel_length": np.array([len(m) for m in mels], "int32")}


# ---------------------------------------------------------------------------- no Keras
def test_text_round_trips_through_classes_and_greedy_decoding():
    for text in ("call anna", "set a timer for twenty minutes", "what's the weather"):
        labels = encode_text(text)
        frames = []                                  # a path with repeats and blanks, as CTC makes
        for k in labels:
            frames += [k, k, len(ALPHABET)]
        logits = np.eye(len(ALPHABET) + 1)[frames][None]
        assert greedy_decode(logits, [len(frames)]) == [text]
        assert greedy_decode(logits, [3]) == [text[0]]            # only the real frames are read
    with pytest.raises(ParameterError, match=r"not in the alphabet.*'2'"):
        encode_text("call 2 people")
    assert ctc_fits("call", 9, TINY) and not ctc_fits("call", 8, TINY)   # 5 frames needed, stride 2


@pytest.mark.parametrize("changes, match", [
    ({"alphabet": "abca"}, "distinct characters"),
    ({"n_intents": 0}, "n_intents=0"),
    ({"intents": ()}, "n_intents=0"),
    ({"n_intents": 3}, "does not match"),
    ({"time_stride": 5}, "time_stride=5"),
    ({"rnn": "transformer"}, "rnn='transformer'"),
    ({"conv_channels": ()}, "conv_channels"),
])
def test_bad_configurations_name_the_value(changes, match):
    with pytest.raises(ParameterError, match=match):
        RecogniserConfig(**changes)


# ---------------------------------------------------------------------------- the model
@pytest.mark.backend
def test_overfits_four_clips_transcripts_and_intents(flite_mels, one_torch_thread):
    keras.utils.set_random_seed(0)
    stacked = np.concatenate(flite_mels)
    model = build_recogniser(dataclasses.replace(TINY, mel_mean=float(stacked.mean()), mel_std=float(stacked.std())),
                             learning_rate=2e-2)
    texts = [t for t, _, _ in COMMANDS]
    x, y = inputs(flite_mels), targets(texts, [i for _, i, _ in COMMANDS], TINY.intents)
    ctc = []
    for _ in range(10):                            # at most 200 steps; stop once every transcript is right
        ctc += model.fit(x, y, batch_size=4, epochs=20, verbose=0).history["ctc"]
        results = predict(model, flite_mels)
        if [text for text, _, _ in results] == texts:
            break
    assert [text for text, _, _ in results] == texts
    assert [intent for _, intent, _ in results] == [i for _, i, _ in COMMANDS]
    assert ctc[-1] < 0.05 * ctc[0]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["intent_accuracy"] == 1.0
    # held to a list of sentences with near misses, the model still answers what was said
    from voicelab.models.grammar_decoder import GrammarDecoder

    decoder = GrammarDecoder(texts + ["call hanna", "weather in roma", "play jam",
                                      "turn on the lights in the kitchens"])
    assert [text for text, _, _ in predict(model, flite_mels, decoder=decoder)] == texts


@pytest.mark.backend
def test_padding_never_changes_a_real_output_and_saving_keeps_predictions(flite_mels, tmp_path, one_torch_thread):
    keras.utils.set_random_seed(1)
    model = build_recogniser(TINY)
    short, long = flite_mels[0], flite_mels[1]
    alone = model(inputs([short]))
    padded = model(inputs([short, long]))
    n = int(keras.ops.convert_to_numpy(alone["frame_length"])[0])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(padded["logits"])[0, :n],
                               keras.ops.convert_to_numpy(alone["logits"])[0], atol=1e-4)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.config == model.config and loaded.audio_config == RECOGNISER_AUDIO
    before, after = predict(model, flite_mels), predict(loaded, flite_mels)
    assert [r[:2] for r in before] == [r[:2] for r in after]
    np.testing.assert_allclose(np.stack([r[2] for r in before]), np.stack([r[2] for r in after]), atol=1e-6)


# ---------------------------------------------------------------------------- the recipe
@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A dataset folder in the shared format: 24 flite clips, half augmented with noise; 16 train, 4 valid,
    4 test_values. Clips of ``slt``/``awb`` are corpus voices; the others are labelled as WORLD voices."""
    from voicelab.data.speakers import speak
    from voicelab.dsp.audio import save

    root = tmp_path_factory.mktemp("commands")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(24):
        text, intent, slots = COMMANDS[i % 4]
        voice = ("slt", "awb", "rms", "kal16")[(i // 4) % 4]
        corpus_voice = voice in ("slt", "awb")
        y = speak(voice, text)
        clean = f"clean/c{i:03d}.flac"
        save(root / clean, y, sr=16000)
        path, augmentation = clean, {}
        if i % 2:
            noisy = y + rng.normal(0, 0.01, len(y)).astype("float32")
            path, augmentation = f"noisy/c{i:03d}.flac", {"noise": "white", "snr_db": 20.0}
            save(root / path, noisy, sr=16000)
        split = "train" if i < 16 else "valid" if i < 20 else "test_values"
        name = f"flite-{voice}-r1" if corpus_voice else f"world-{voice}-a1.1"
        meta = {"intent": intent, "slots": slots, "engine": "flite" if corpus_voice else "world",
                "voice": name, "voice_params": {"voice": voice, "alpha": 1.0 if corpus_voice else 1.1},
                "clean_path": clean, "augmentation": augmentation}
        rows.append(Utterance(id=f"c{i:03d}", path=path, speaker=name, emotion="neutral", text=text, phonemes="",
                              duration=len(y) / 16000, sr=16000, split=split, sentence_id=text, meta=meta))
    write_manifest(rows, root / "manifest.jsonl")
    return root


def test_prepare_makes_three_training_sets_and_caches_the_features(dataset):
    from voicelab.recipes.recogniser import prepare, recipe

    r = recipe("smoke")
    data = prepare(r, dataset, progress=False)
    assert data.counts["synthetic"] == {"train": 16, "valid": 4, "dropped": 0}
    assert data.counts["augmented"] == data.counts["synthetic"]
    assert data.counts["corpus_voices"]["train"] == 8                 # slt and awb
    assert all(u.path.startswith("clean/") for u in data.clips["synthetic"]["train"])
    assert sum(u.path.startswith("noisy/") for u in data.clips["augmented"]["train"]) == 8
    assert data.intents == sorted(i for _, i, _ in COMMANDS) and data.stats["synthetic"][1] > 0
    assert (dataset / "features").is_dir()
    again = prepare(r, dataset, progress=False)
    assert again.cache.fill(again.corpus, progress=False) == 0 and again.stats == data.stats   # nothing to compute
    from voicelab.recipes.recogniser import batches

    x, y = batches(r, data, "augmented")[0]
    assert x["mel"].shape[0] == 8 and x["mel"].shape[2] == 40 and y["labels"].shape[0] == 8
    assert (x["mel_length"] <= x["mel"].shape[1]).all() and y["label_length"].max() == y["labels"].shape[1]


def test_recipe_names_runs_and_refuses_unknown_sets():
    from voicelab.recipes.recogniser import recipe

    r = recipe("quick")
    assert [r.run_name(w) for w in r.MODELS] == ["asr-corpus-quick", "asr-synthetic-quick", "asr-augmented-quick"]
    assert recipe("quick", time_stride=2, seed=1).run_name("synthetic") == "asr-synthetic-quick-s2-seed1"
    cold = recipe("quick", warm_start=False)         # only the augmented model is made by warm_start
    assert cold.run_name("augmented") == "asr-augmented-quick-no-ws"
    assert cold.run_name("synthetic") == "asr-synthetic-quick"
    with pytest.raises(ParameterError, match="model='clean'"):
        r.run_name("clean")


KILL_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    import keras
    from train_worker import KillAt
    from voicelab.recipes.recogniser import prepare, recipe, train_or_load_recogniser
    keras.utils.set_random_seed(0)
    kill_at = int(sys.argv[1])
    r = recipe("smoke")
    run = train_or_load_recogniser(r, prepare(r, {dataset!r}, progress=False), "synthetic", models_dir={models!r},
                                   verbose=0, callbacks=[KillAt(kill_at)] if kill_at else [])
    print(json.dumps({{"info": run.info, "loaded": run.loaded, "epochs": run.history["epochs"]["loss"]}}))
""")


@pytest.mark.backend
def test_training_resumes_after_kill_9_then_scores_and_recognises(dataset, tmp_path):
    from voicelab.recipes.recogniser import prepare, recipe, recognise, train_or_load_recogniser

    models = tmp_path / "models"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), dataset=str(dataset), models=str(models))
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "OMP_NUM_THREADS": "1"}

    def worker(kill_at):
        return subprocess.run([sys.executable, "-c", script, str(kill_at)], capture_output=True, text=True,
                              timeout=600, env=env)

    killed = worker(3)                             # 2 epochs of 2 batches; the epoch-0 save is at step 2
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    folder = models / "asr-synthetic-smoke"
    assert (folder / "checkpoint" / "state.json").is_file() and not (folder / "model.keras").exists()
    resumed = worker(0)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    out = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert not out["loaded"] and out["info"]["resumed_at_step"] == 2 and out["info"]["steps"] == 4
    assert [step for step, _ in out["epochs"]] == [2, 4]
    assert set(out["info"]["config"]["clips"]) == {"train", "valid", "dropped"}

    r = recipe("smoke")
    data = prepare(r, dataset, progress=False)
    run = train_or_load_recogniser(r, data, "synthetic", models_dir=models)
    assert run.loaded and run.info["steps"] == 4
    for name in ("val_loss", "val_ctc", "val_intent_accuracy", "ctc", "intent_accuracy"):
        assert name in run.history["epochs"], name
    from voicelab.data.commands import default_grammar
    from voicelab.models.grammar_decoder import GrammarDecoder
    from voicelab.recipes.recogniser import evaluate

    scores = evaluate(run.model, data, "test_values", condition="noisy", grammar=default_grammar())
    assert scores["n"] == 4 and scores["confusion"].sum() == 4 and 0 <= scores["intent_accuracy"] <= 1
    assert 0 <= scores["slot_f1"] <= 1 and scores["wer"] >= 0
    manifest = read_manifest(dataset / "manifest.jsonl")
    answers = recognise(run.model, [manifest.audio_path(manifest[0])], grammar=default_grammar())
    assert list(answers[0]) == ["path", "text", "intent", "slots"] and answers[0]["intent"] in data.intents
    held = recognise(run.model, [manifest.audio_path(u) for u in manifest[:3]], held_to_grammar=True)
    language = {c.text for c in default_grammar().sentences()}
    assert all(a["text"] in language for a in held), held
    assert evaluate(run.model, data, "test_values", decoder=GrammarDecoder.from_grammar(), limit=2)["n"] == 2
    with pytest.raises(ParameterError, match="limit=0"):
        evaluate(run.model, data, "test_values", limit=0)

    # the augmented model starts from the synthetic one: trained alone, it trains that one first
    fresh = tmp_path / "fresh"
    warm = train_or_load_recogniser(r, data, "augmented", models_dir=fresh, verbose=0)
    assert warm.info["config"]["recipe"]["warm_start"] is True
    assert (fresh / "asr-synthetic-smoke" / "model.keras").is_file()
    cold = train_or_load_recogniser(r.with_changes(warm_start=False), data, "augmented", models_dir=fresh, verbose=0)
    assert cold.folder.name == "asr-augmented-smoke-no-ws"
    assert not all(np.allclose(a, b) for a, b in zip(warm.model.get_weights(), cold.model.get_weights()))
