"""The command line (``python -m voicelab``): speak, convert, train and sweep, their audio files and their errors.

The error tests need no trained model. The others share one ``DATA_DIR`` (:func:`kit`)
where notebook 02's and 04's smoke models are trained through their recipes, into the
run folders :mod:`voicelab.artifacts` loads them from, as the notebooks would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from voicelab.__main__ import main
from voicelab.dsp import audio as vl_audio
from voicelab.dsp.features import AudioConfig

HOP = AudioConfig().hop_length


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``python -m voicelab ARGV``."""
    status = main([str(a) for a in argv])
    printed = capsys.readouterr()
    return status, printed.out, printed.err


@pytest.fixture
def tone(tmp_path) -> Path:
    """Half a second of a 220 Hz tone in a WAV file (a source that is audio, but no model's)."""
    t = np.arange(8000) / 16000
    return vl_audio.save(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * t), sr=16000)


# ---------------------------------------------------------------------- errors, before any model is trained
@pytest.mark.parametrize("command, notebook", [
    (["speak", "Hello there.", "--voice", "slt"], "02"),
    (["speak", "Hello there.", "--voice", "slt", "--emotion", "happy"], "02"),
    (["convert", "TONE", "--to", "slt"], "04"),
])
def test_a_missing_model_names_the_notebook_that_trains_it(capsys, tmp_path, tone, command, notebook):
    out = tmp_path / "out.wav"
    command = [str(tone) if a == "TONE" else a for a in command]
    status, _, err = run_cli(capsys, *command, "--profile", "smoke", "--data-dir", tmp_path, "--out", out)
    assert status == 1 and err.startswith("error: ") and "Traceback" not in err
    assert f"make run ONLY={notebook} PROFILE=smoke" in err and str(tmp_path / "models") in err
    assert ("emotions" in err) == ("--emotion" in command)
    assert not out.exists()


@pytest.mark.parametrize("command", [["speak", "Hello.", "--voice", "slt"], ["convert", "TONE", "--to", "slt"]])
@pytest.mark.parametrize("out, match", [("missing/out.wav", "does not exist"), (".", "is a folder"),
                                        ("out.txt", "not an audio format")])
def test_a_bad_output_path_is_refused_before_any_model_loads(capsys, tmp_path, tone, command, out, match):
    command = [str(tone) if a == "TONE" else a for a in command]
    status, _, err = run_cli(capsys, *command, "--data-dir", tmp_path, "--out", tmp_path / out)
    assert status == 1 and match in err and str(tmp_path / out) in err
    assert "make run" not in err           # refused before the (missing) model was looked for


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_refused(capsys, tmp_path, text):
    status, _, err = run_cli(capsys, "speak", text, "--voice", "slt", "--out", tmp_path / "a.wav")
    assert status == 1 and "TEXT" in err and "empty" in err


def test_a_missing_or_unreadable_source_is_named(capsys, tmp_path):
    missing = tmp_path / "nowhere.wav"
    status, _, err = run_cli(capsys, "convert", missing, "--to", "slt", "--data-dir", tmp_path,
                             "--out", tmp_path / "out.wav")
    assert status == 1 and f"{missing}: no such file" in err
    notes = tmp_path / "notes.wav"
    notes.write_text("not a recording")
    status, _, err = run_cli(capsys, "convert", notes, "--to", "slt", "--data-dir", tmp_path,
                             "--out", tmp_path / "out.wav")
    assert status == 1 and f"{notes}: cannot decode as audio" in err and "Traceback" not in err


def test_sweep_of_a_missing_notebook_lists_the_kits_notebooks(capsys, tmp_path):
    from voicelab.registry import NOTEBOOKS

    missing, out = tmp_path / "02_tts.ipynb", tmp_path / "sweep"
    status, _, err = run_cli(capsys, "sweep", missing, "-p", "SEED", "0", "1", "--out", out)
    assert status == 1 and f"notebook {missing}: no such file" in err
    assert all(f"notebooks/{n.filename}" in err for n in NOTEBOOKS)
    assert not out.exists()


@pytest.mark.parametrize("argv, match", [
    (["speak", "Hello.", "--out", "a.wav"], "--voice"),
    (["speak", "Hello.", "--voice", "slt", "--vocoder", "melgan", "--out", "a.wav"], "invalid choice: 'melgan'"),
    (["train", "tts"], "invalid choice: 'tts'"),            # notebook 02 trains it, not `train`
    (["convert", "a.wav", "--to", "slt", "--profile", "huge", "--out", "b.wav"], "invalid choice: 'huge'"),
])
def test_argparse_refuses_bad_arguments_with_status_2(capsys, argv, match):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and match in capsys.readouterr().err


# ---------------------------------------------------------------------- speak with a stand-in emotion model
@pytest.mark.backend
@pytest.mark.filterwarnings("ignore:.*clipped:UserWarning")   # an untrained model's loud mel
def test_emotion_loads_the_emotion_model_and_checks_the_emotion(capsys, tmp_path, monkeypatch):
    """``--emotion`` asks :func:`load_tts` for the emotion model and speaks in one of its emotions.

    A tiny untrained model stands in for notebook 02's (training one takes most of a minute).
    """
    import keras

    from voicelab import artifacts
    from voicelab.models.tts import TTSConfig, build_tts

    config = AudioConfig(n_fft=128, win_length=128, hop_length=32, n_mels=16, fmax=None)
    keras.utils.set_random_seed(0)
    model = build_tts(TTSConfig(n_speakers=2, n_emotions=4, embed_dim=8, encoder_filters=8, encoder_units=4,
                                voice_dim=4, duration_filters=8, decoder_filters=8, decoder_units=4,
                                postnet_filters=8, dropout=0.0), config)
    bias = model.duration_predictor.out.bias     # untrained: ~0 frames per symbol; make it ~3
    bias.assign(keras.ops.convert_to_numpy(bias) + np.log1p(3.0))
    names = ["angry", "happy", "neutral", "sad"]
    asked = []

    def load_tts(profile, voice="speaker", *, data_dir, seed=0, emotions=False):
        asked.append(emotions)
        return model, ["ann", "bob"], SimpleNamespace(info={"config": {"speakers": ["ann", "bob"], "emotions": names}})

    monkeypatch.setattr(artifacts, "load_tts", load_tts)
    out = tmp_path / "happy.wav"
    common = ["--voice", "bob", "--vocoder", "griffin-lim", "--profile", "smoke", "--out", out]
    status, _, err = run_cli(capsys, "speak", "Hello there.", "--emotion", "gleeful", *common)
    assert status == 1 and "--emotion 'gleeful'" in err and all(e in err for e in names)
    assert not out.exists()
    status, printed, _ = run_cli(capsys, "speak", "Hello there.", "--emotion", "happy", *common)
    assert status == 0 and asked == [True, True] and "voice bob, happy" in printed
    y, sr = sf.read(out)
    assert sr == config.sr and len(y) > 0 and len(y) % config.hop_length == 0


# ---------------------------------------------------------------------- with the smoke models
@dataclasses.dataclass
class Kit:
    """The trained ``DATA_DIR`` and what ``train aligner`` returned and printed while making it."""

    data_dir: Path
    train_status: int
    train_printed: str


@pytest.fixture(scope="module")
def kit(tmp_path_factory, smoke_corpus, one_torch_thread) -> Kit:
    """A ``DATA_DIR`` with notebook 02's aligner and speaker-id model and notebook 04's VQ-VAE (smoke).

    The corpus is the session's (a link). The aligner is trained by ``python -m voicelab
    train aligner`` (its exit status and output are kept for its test), the others through
    their recipes' ``train_or_load_*``, into the run folders :mod:`voicelab.artifacts` reads.
    """
    from voicelab import artifacts
    from voicelab.recipes import conversion, tts

    data_dir = tmp_path_factory.mktemp("kit")
    (data_dir / "corpus-smoke").symlink_to(smoke_corpus.root, target_is_directory=True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["train", "aligner", "--profile", "smoke", "--data-dir", str(data_dir)])
    assert status == 0, printed.getvalue()
    models = data_dir / "models"
    r = tts.recipe("smoke")
    data = tts.prepare(r, data_dir=data_dir, progress=False)
    aligner = artifacts.load_aligner("smoke", data_dir=data_dir)
    tts.train_or_load_tts(r, data, "speaker", durations=tts.durations(aligner.model, data), models_dir=models,
                          verbose=0)
    c = conversion.recipe("smoke")
    conversion.train_or_load_vqvae(c, conversion.prepare(c, data_dir=data_dir, progress=False), models_dir=models,
                                   verbose=0)
    return Kit(data_dir, status, printed.getvalue())


def speakers_of(kit: Kit) -> list[str]:
    import json

    return json.loads((kit.data_dir / "models" / "tts-speaker-smoke" / "run.json").read_text())["config"]["speakers"]


@pytest.mark.backend
def test_train_puts_the_aligner_where_notebook_02_loads_it(kit, capsys):
    from voicelab import artifacts

    folder = artifacts.folder("aligner", "smoke", data_dir=kit.data_dir)
    assert kit.train_status == 0 and f"aligner: trained into {folder} in " in kit.train_printed
    assert artifacts.is_ready("aligner", "smoke", data_dir=kit.data_dir)
    status, printed, _ = run_cli(capsys, "train", "aligner", "--profile", "smoke", "--data-dir", kit.data_dir)
    assert status == 0 and f"aligner: already trained in {folder}" in printed and "--retrain" in printed


@pytest.mark.backend
def test_speak_writes_a_16_bit_wav_of_the_text(kit, capsys, tmp_path):
    from voicelab.text import text_to_ids

    text, voice = "Call Anna at five.", speakers_of(kit)[1]
    out = tmp_path / "anna.wav"
    status, printed, _ = run_cli(capsys, "speak", text, "--voice", voice, "--vocoder", "griffin-lim",
                                 "--profile", "smoke", "--data-dir", kit.data_dir, "--out", out)
    assert status == 0
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    y, _ = sf.read(out)
    assert len(y) % HOP == 0 and len(text_to_ids(text)) * HOP <= len(y) < 20 * 16000   # >= 1 frame per symbol
    assert np.isfinite(y).all() and np.abs(y).max() > 1e-3
    assert f"{out}: {len(y) / 16000:.2f} s of audio, voice {voice}, vocoder griffin_lim_" in printed


@pytest.mark.backend
def test_speak_with_the_kit_vocoder_says_how_to_train_it_and_goes_on(kit, capsys, tmp_path):
    out = tmp_path / "hello.wav"
    status, printed, _ = run_cli(capsys, "speak", "Hello there.", "--voice", speakers_of(kit)[0],
                                 "--profile", "smoke", "--data-dir", kit.data_dir, "--out", out)
    assert status == 0 and "python -m voicelab train vocoder --profile smoke" in printed
    assert sf.info(out).samplerate == 16000 and sf.info(out).frames > 0


@pytest.mark.backend
def test_an_unknown_voice_lists_the_speakers(kit, capsys, tmp_path):
    out = tmp_path / "a.wav"
    status, _, err = run_cli(capsys, "speak", "Hello.", "--voice", "nobody", "--profile", "smoke",
                             "--data-dir", kit.data_dir, "--out", out)
    assert status == 1 and "--voice 'nobody'" in err and all(s in err for s in speakers_of(kit))
    assert not out.exists()


@pytest.mark.backend
def test_convert_resamples_any_source_and_keeps_its_length(kit, capsys, tmp_path, smoke_corpus):
    clip = smoke_corpus.filter(emotion="neutral", split="test")[0]
    y16 = vl_audio.load(smoke_corpus.audio_path(clip), sr=16000)
    source = vl_audio.save(tmp_path / "source.flac", vl_audio.resample(y16, orig_sr=16000, target_sr=22050),
                           sr=22050)
    target = next(s for s in speakers_of(kit) if s != clip.speaker)
    out = tmp_path / "converted.wav"
    status, printed, _ = run_cli(capsys, "convert", source, "--to", target, "--vocoder", "griffin-lim",
                                 "--profile", "smoke", "--data-dir", kit.data_dir, "--out", out)
    assert status == 0 and f"in voice {target}" in printed
    info = sf.info(out)
    assert (info.samplerate, info.subtype) == (16000, "PCM_16") and abs(info.frames - len(y16)) <= HOP
    y, _ = sf.read(out)
    assert np.isfinite(y).all() and np.abs(y).max() > 1e-3

    status, _, err = run_cli(capsys, "convert", source, "--to", "nobody", "--profile", "smoke",
                             "--data-dir", kit.data_dir, "--out", tmp_path / "b.wav")
    assert status == 1 and "--to 'nobody'" in err and all(s in err for s in speakers_of(kit))


# ---------------------------------------------------------------------- synth-data and recognise
def _grammar_file(tmp_path, mutate) -> Path:
    import json

    from voicelab.data.commands import default_grammar, grammar_rules

    rules = grammar_rules(default_grammar())
    mutate(rules)
    path = tmp_path / "grammar.json"
    path.write_text(json.dumps(rules))
    return path


@pytest.mark.parametrize("case, message", [
    ("size 0", "size=0 must be a positive number of clips"),
    ("out is a file", "is a file: give a folder for the dataset"),
    ("unknown slot", "names unknown slot {contakt}"),
    ("zero weights", "intent weights are all zero"),
    ("not a grammar", "not valid JSON"),
])
def test_synth_data_refuses_bad_input_and_leaves_nothing(capsys, tmp_path, case, message):
    out, extra = tmp_path / "dataset", []
    if case == "size 0":
        extra = ["--size", "0"]
    elif case == "out is a file":
        out.write_text("a file")
    elif case == "unknown slot":
        extra = ["--grammar", _grammar_file(tmp_path, lambda r: r["phrasings"]["call"].append([1.0, "call {contakt}"]))]
    elif case == "zero weights":
        extra = ["--grammar", _grammar_file(tmp_path, lambda r: r["intents"].update({k: 0 for k in r["intents"]}))]
    else:
        (tmp_path / "grammar.json").write_text("{intents: oops")
        extra = ["--grammar", tmp_path / "grammar.json"]
    before = sorted(p.name for p in tmp_path.iterdir())
    status, _, err = run_cli(capsys, "synth-data", "--profile", "smoke", "--out", out, *extra)
    assert status == 1 and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before        # no partial output


def test_recognise_says_which_notebook_trains_the_model(capsys, tmp_path, tone):
    status, _, err = run_cli(capsys, "recognise", "--profile", "smoke", "--data-dir", tmp_path, tone)
    assert status == 1 and "no recogniser (augmented)" in err and "run notebook 06" in err
    status, _, err = run_cli(capsys, "recognise", "--profile", "smoke", "--data-dir", tmp_path, tmp_path / "nope.wav")
    assert status == 1 and "no such audio file" in err
