"""Text to speech end to end: text -> phonemes -> mel (TTS model) -> audio (Griffin-Lim).

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

- :func:`synthesize`: one sentence in one voice; the voice is a speaker name or id
  (a speaker-embedding model) or a reference clip to clone (a reference-encoder model).
- :func:`synthesis_view` and :func:`tts_widget`: the same with a figure of the mel and
  the per-phoneme durations, and an ipywidgets front-end (text box, voice menu, button).
- :func:`train_or_load`: load ``DATA_DIR/models/tts-<profile>-<voice>.keras`` if it
  exists, else train it (resuming an interrupted run) and save it; :func:`load_tts`
  only loads.
- :class:`DurationBatches`: adds the aligner's durations to :class:`~voicelab.data.SpeechBatches`.
- :func:`evaluate_voices`: MCD, ASR word error rates and speaker similarity per speaker.

Mels are time-major natural-log mels ``[frames, n_mels]``; audio is float32 mono at
``config.sr``.

Example
-------
>>> from voicelab.models.tts import TTSConfig, build_tts
>>> cfg = AudioConfig(n_fft=64, win_length=64, hop_length=16, n_mels=8, fmax=None)
>>> model = build_tts(TTSConfig(n_speakers=2, embed_dim=8, encoder_filters=8, encoder_units=4,
...                             voice_dim=4, duration_filters=8, decoder_filters=8,
...                             decoder_units=4, postnet_filters=8), cfg)
>>> audio, mel, durations = synthesize(model, "Hello.", voice="b", speakers=["a", "b"],
...                                    config=cfg, n_iter=2)
>>> bool(len(audio) == len(mel) * cfg.hop_length == durations.sum() * cfg.hop_length)
True
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from voicelab import audio as vl_audio
from voicelab import features, griffin_lim, text
from voicelab.errors import ParameterError
from voicelab.features import AudioConfig

MEL_FLOOR = 1e-5  # the pipeline's log floor (voicelab.data.pipeline.MEL_FLOOR)


# ----------------------------------------------------------------- the voice
def reference_mel(clip, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Log-mel ``[frames, n_mels]`` of a reference clip: float audio at ``config.sr`` or a file path."""
    if isinstance(clip, (str, os.PathLike)):
        y = vl_audio.load(clip, sr=config.sr)
    else:
        y = vl_audio.check_audio(clip, name="reference clip")
    return features.log_mel(features.melspectrogram(y, config=config), floor=MEL_FLOOR).astype(np.float32)


def _voice_kwargs(model, voice, speakers: Sequence[str] | None, config: AudioConfig) -> dict:
    """``synthesize_mel``'s voice argument from a name, id, clip or path (checked here)."""
    if model.config.voice == "speaker":
        if isinstance(voice, str):
            names = list(speakers or [])
            if voice not in names:
                raise ParameterError(f"voice={voice!r} is not one of speakers={names}")
            return {"speaker": names.index(voice)}
        if isinstance(voice, (int, np.integer)) and not isinstance(voice, bool):
            if not 0 <= int(voice) < model.config.n_speakers:
                raise ParameterError(f"voice={voice} must be in [0, {model.config.n_speakers})")
            return {"speaker": int(voice)}
        raise ParameterError(f"this model has a speaker embedding: voice must be a speaker name or id, "
                             f"got {type(voice).__name__}")
    if isinstance(voice, (str, os.PathLike)) and not Path(voice).is_file():
        raise ParameterError(f"voice={str(voice)!r}: this model clones a reference clip, and no audio "
                             "file is there")
    if isinstance(voice, (bool, int, np.integer)):
        raise ParameterError(f"voice={voice!r}: this model clones a reference clip (audio or a file), "
                             "it has no speaker ids")
    return {"reference_mel": reference_mel(voice, config=config)}


def synthesize(model, text_in: str, *, voice, config: AudioConfig = AudioConfig(), speed: float = 1.0,
               n_iter: int = 32, speakers: Sequence[str] | None = None, seed: int = 0,
               vocoder: Callable[[np.ndarray], np.ndarray] | None = None):
    """Speak ``text_in`` in ``voice``: ``(audio float32, mel [F, n_mels], durations [L])``.

    Parameters
    ----------
    model : voicelab.models.tts.TTSModel
        A trained (or untrained) text-to-mel model.
    text_in : str
        Raw English text; normalised and turned into phonemes by :mod:`voicelab.text`.
    voice : str, int, array or path
        Speaker-embedding model: a name in ``speakers`` or an id. Reference-encoder
        model: the clip to clone, float audio at ``config.sr`` or an audio file.
    config : AudioConfig
        Must be the model's (``model.audio_config``); used for the reference mel and
        Griffin-Lim.
    speed : float
        > 1 speaks faster.
    n_iter : int
        Griffin-Lim iterations.
    speakers : sequence of str, optional
        Speaker names in id order, to pick ``voice`` by name.
    vocoder : callable, optional
        ``log-mel [F, n_mels] -> audio`` used instead of Griffin-Lim, e.g.
        ``lambda m: voicelab.models.melgan.vocode(generator, m)`` (notebook 03); its
        output is trimmed or zero-padded to ``F * hop_length`` samples.

    Returns
    -------
    audio : ndarray float32 ``[F * hop_length]``; mel : ndarray ``[F, n_mels]`` (natural log);
    durations : ndarray int32 ``[L]``, frames per phoneme symbol, summing to ``F``.

    Raises
    ------
    ParameterError
        Bad text (empty, another script...), unknown voice, or a ``config`` that is not
        the model's, before the model runs.
    """
    from voicelab.models.tts import synthesize_mel

    if config != model.audio_config:
        raise ParameterError(f"config={config} is not the model's audio_config={model.audio_config}")
    ids = text.text_to_ids(text_in)
    kwargs = _voice_kwargs(model, voice, speakers, config)
    mel, durations = synthesize_mel(model, ids, speed=speed, **kwargs)
    n = len(mel) * config.hop_length
    if vocoder is None:
        y = griffin_lim.mel_to_audio(np.exp(mel), config=config, n_iter=n_iter, length=n, seed=seed)
    else:
        from librosa.util import fix_length

        y = fix_length(np.asarray(vocoder(mel), dtype=np.float32).ravel(), size=n)
    return np.asarray(y, dtype=np.float32), mel, durations


# ----------------------------------------------------------------- view and widget
@dataclasses.dataclass
class SynthesisView:
    """What :func:`tts_widget` shows: the audio, mel, durations and the phoneme symbols."""

    text: str
    voice: str
    audio: np.ndarray
    mel: np.ndarray
    durations: np.ndarray
    phonemes: list[str]
    config: AudioConfig

    def figure(self):
        """Mel with phoneme boundaries (top) and frames per phoneme (bottom)."""
        import matplotlib.pyplot as plt

        from voicelab import plots

        fig, (ax_mel, ax_dur) = plt.subplots(2, 1, figsize=(11, 5.5), layout="constrained",
                                             height_ratios=(3, 2))
        plots.spectrogram(self.mel, config=self.config, kind="mel", ax=ax_mel,
                          title=f"{self.voice}: {self.text!r}")
        seconds = np.cumsum(self.durations) * self.config.hop_length / self.config.sr
        for t in seconds[:-1]:
            ax_mel.axvline(t, color="white", linewidth=0.4, alpha=0.6)
        ax_dur.bar(np.arange(len(self.durations)), self.durations, color="tab:blue")
        ax_dur.set_xticks(np.arange(len(self.phonemes)), self.phonemes, rotation=90, fontsize=7)
        ax_dur.set(ylabel="frames", xlim=(-0.6, len(self.durations) - 0.4),
                   title="predicted duration of each phoneme symbol")
        return fig


def synthesis_view(model, text_in: str, voice_name: str, *, voices: Mapping[str, object],
                   config: AudioConfig = AudioConfig(), speed: float = 1.0, n_iter: int = 32,
                   speakers: Sequence[str] | None = None) -> SynthesisView:
    """The compute behind :func:`tts_widget`: synthesise ``text_in`` in ``voices[voice_name]``."""
    if voice_name not in voices:
        raise ParameterError(f"voice_name={voice_name!r} is not one of {list(voices)}")
    y, mel, durations = synthesize(model, text_in, voice=voices[voice_name], config=config,
                                   speed=speed, n_iter=n_iter, speakers=speakers)
    phonemes = text.to_phonemes(text_in)[0]
    return SynthesisView(text_in, voice_name, y, mel, durations, phonemes, config)


def tts_widget(model, *, speakers: Sequence[str] = (), references: Mapping[str, object] | None = None,
               config: AudioConfig = AudioConfig(), text_in: str = "Please call Stella.", n_iter: int = 32):
    """A text box, a voice menu and a button: speak, play, and plot the mel and durations.

    The menu offers ``speakers`` (names, for a speaker-embedding model) or the clips
    of ``references`` (label -> audio or path, for a reference-encoder model). A first
    sentence is synthesised at once, so the widget shows a result without a live kernel.
    Errors (bad text) are shown in the widget. The compute is :func:`synthesis_view`.
    """
    import ipywidgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from voicelab.widgets import player

    if model.config.voice == "speaker":
        voices = {name: name for name in speakers}
    else:
        voices = dict(references or {})
    if not voices:
        raise ParameterError("tts_widget needs speakers (speaker model) or references (reference model)")
    box = ipywidgets.Text(value=text_in, description="text", layout=ipywidgets.Layout(width="60%"))
    menu = ipywidgets.Dropdown(options=list(voices), description="voice")
    speed = ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.1, description="speed")
    button = ipywidgets.Button(description="Speak", button_style="primary")
    out = ipywidgets.Output()

    def speak(_=None):
        with out:
            out.clear_output(wait=True)
            try:
                view = synthesis_view(model, box.value, menu.value, voices=voices, config=config,
                                      speed=speed.value, n_iter=n_iter, speakers=list(speakers))
            except ParameterError as err:  # shown to the user, who fixes the text
                display(ipywidgets.HTML(f"<b style='color: #b00'>{err}</b>"))
                return
            display(player(view.audio, sr=config.sr, label=f"{view.voice}: {view.text}"))
            fig = view.figure()
            plt.show()
            plt.close(fig)

    button.on_click(speak)
    speak()
    return ipywidgets.VBox([ipywidgets.HBox([box, menu]), ipywidgets.HBox([speed, button]), out])


# ----------------------------------------------------------------- training data
class DurationBatches(keras.utils.PyDataset):
    """A :class:`~voicelab.data.SpeechBatches` whose batches also carry ``durations [B, L]``.

    ``durations`` maps utterance id -> int array of frames per symbol (from the aligner:
    :func:`durations_by_id`); each must match its utterance's symbols and mel frames.
    """

    def __init__(self, batches, durations: Mapping[str, np.ndarray]):
        super().__init__()
        self.batches, self.durations = batches, durations

    def __len__(self) -> int:
        return len(self.batches)

    def on_epoch_end(self) -> None:
        self.batches.on_epoch_end()

    def __getitem__(self, index: int) -> dict:
        batch = dict(self.batches[index])
        utts = self.batches.utterances(index)
        missing = [u.id for u in utts if u.id not in self.durations]
        if missing:
            raise ParameterError(f"no durations for utterances {missing[:3]}")
        out = np.zeros(batch["tokens"].shape, np.int32)
        for row, u in enumerate(utts):
            d = np.asarray(self.durations[u.id])
            if len(d) != batch["token_length"][row] or d.sum() != batch["mel_length"][row]:
                raise ParameterError(f"durations of {u.id!r} ({len(d)} symbols, {d.sum()} frames) do not match "
                                     f"its {batch['token_length'][row]} symbols and {batch['mel_length'][row]} frames")
            out[row, :len(d)] = d
        batch["durations"] = out
        return batch


def durations_by_id(aligner, batches) -> dict[str, np.ndarray]:
    """Run the aligner + MAS over every batch of ``batches``: utterance id -> durations."""
    from voicelab.models.align import extract_durations

    result = {}
    for index in range(len(batches)):
        batch = batches[index]
        durations = extract_durations(aligner, batch)
        for row, u in enumerate(batches.utterances(index)):
            result[u.id] = durations[row, :batch["token_length"][row]]
    return result


# ----------------------------------------------------------------- train or load
def load_tts(path: str | os.PathLike):
    """A model saved by :func:`train_or_load` and its info (``speakers``, ``history``, ``seconds``...)."""
    import voicelab.models.tts  # noqa: F401  (registers TTSModel's layers with Keras's loader)

    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not (path.is_file() and sidecar.is_file()):
        raise ParameterError(f"no trained TTS model at {str(path)!r} (with its {sidecar.name}): "
                             "run notebooks/02_tts_cnn_bilstm.ipynb in the same profile first")
    return keras.models.load_model(path), {**json.loads(sidecar.read_text()), "loaded": True}


def train_or_load(path: str | os.PathLike, *, build: Callable[[], object], train, valid=None,
                  epochs: int, retrain: bool = False, meta: Mapping | None = None,
                  verbose="auto", extra_callbacks: Sequence = ()):
    """Load the model saved at ``path`` (a ``.keras``), or train one and save it there.

    If ``path`` exists and ``retrain`` is False the model is loaded. Otherwise
    ``build()`` makes a fresh compiled model and ``fit`` trains it with
    :func:`voicelab.models.tts_training.training_callbacks` in the run folder
    ``<path without .keras>-run/`` (TensorBoard logs in ``logs/``, ``checkpoints/last.keras``)
    plus a ``history.csv``: an interrupted run continues where it stopped when called
    again; ``retrain=True`` starts afresh. ``meta`` (e.g. speaker names) is saved in a
    ``.json`` beside the model with the history and training time.

    Returns ``(model, info)``: ``info`` has ``meta``'s keys, ``history`` (dict of lists,
    every epoch, the resumed ones included), ``seconds`` (training time) and ``loaded``.
    """
    from voicelab.models.tts_training import training_callbacks

    path = Path(path)
    if path.suffix != ".keras":
        raise ParameterError(f"path={str(path)!r} must end in .keras")
    sidecar = path.with_suffix(".json")
    if path.exists() and sidecar.exists() and not retrain:
        return load_tts(path)
    run_dir = path.parent / f"{path.stem}-run"
    if retrain and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    model = build()
    callbacks = training_callbacks(run_dir) + [
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True), *extra_callbacks]
    started = time.perf_counter()
    model.fit(train, validation_data=valid, epochs=epochs, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # CSVLogger writes "NA" for metrics an epoch did not have (val_* without validation data).
    history = {k: [float("nan") if r[k] == "NA" else float(r[k]) for r in rows]
               for k in rows[0] if k != "epoch"} if rows else {}
    model.save(path)
    info = {**dict(meta or {}), "history": history, "seconds": round(seconds, 1), "epochs": epochs}
    sidecar.write_text(json.dumps(info, indent=1))
    return model, {**info, "loaded": False}


# ----------------------------------------------------------------- evaluation
def evaluate_voices(model, manifest, *, speakers: Sequence[str], references: Mapping[str, object] | None = None,
                    config: AudioConfig = AudioConfig(), n_iter: int = 32, transcriber=None,
                    progress: bool = False, truth_transcripts: dict | None = None,
                    vocoder: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """Score the model on ``manifest`` (e.g. the test split), per speaker.

    For each utterance: synthesise its text in its speaker's voice (by name, or with
    ``references[speaker]`` as the clip to clone), then MCD against the recording,
    pocketsphinx transcripts of both, and the resemblyzer similarity of the two.

    ``truth_transcripts`` (utterance id -> transcript of the recording) is filled and
    reused, so scoring a second model does not transcribe the recordings again.
    ``vocoder`` replaces Griffin-Lim (see :func:`synthesize`).

    Returns ``speaker -> {"n", "mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity",
    "silent"}`` (``wer_ratio`` is ``wer_synth / wer_truth``, ``inf`` when the recordings
    score 0; ``similarity`` averages the clips with enough speech for an embedding, and
    ``silent`` counts the synthetic clips without: an untrained model's are).
    """
    from voicelab import evaluate

    judge = transcriber or evaluate.Transcriber()
    truth_transcripts = {} if truth_transcripts is None else truth_transcripts
    rows: dict[str, dict[str, list]] = {}
    items = list(manifest)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="evaluating")
    for utt in items:
        if utt.speaker not in speakers:
            raise ParameterError(f"utterance {utt.id!r} has speaker {utt.speaker!r}, not in {list(speakers)}")
        voice = utt.speaker if model.config.voice == "speaker" else (references or {})[utt.speaker]
        y_syn, _, _ = synthesize(model, utt.text, voice=voice, config=config, n_iter=n_iter, speakers=speakers,
                                 vocoder=vocoder)
        y_true = vl_audio.load(manifest.audio_path(utt), sr=config.sr)
        r = rows.setdefault(utt.speaker, {k: [] for k in ("mcd", "sim", "ref", "hyp", "truth")})
        r["mcd"].append(evaluate.mel_cepstral_distortion(y_true, y_syn, sr=config.sr))
        try:
            r["sim"].append(evaluate.speaker_similarity(y_true, y_syn, sr=config.sr))
        except ParameterError:  # the synthetic clip is (nearly) silent: no voice to compare
            r["sim"].append(float("nan"))
        r["ref"].append(utt.text)
        r["hyp"].append(judge(y_syn, sr=config.sr))
        if utt.id not in truth_transcripts:
            truth_transcripts[utt.id] = judge(y_true, sr=config.sr)
        r["truth"].append(truth_transcripts[utt.id])
    results = {}
    for speaker, r in rows.items():
        wer_s = evaluate.word_error_rate(r["ref"], r["hyp"])
        wer_t = evaluate.word_error_rate(r["ref"], r["truth"])
        results[speaker] = {"n": len(r["mcd"]), "mcd": float(np.mean(r["mcd"])), "wer_synth": wer_s,
                            "wer_truth": wer_t, "wer_ratio": wer_s / wer_t if wer_t > 0 else float("inf"),
                            "similarity": float(np.nanmean(r["sim"])) if not np.isnan(r["sim"]).all() else float("nan"),
                            "silent": int(np.isnan(r["sim"]).sum())}
    return results


def format_results(results: Mapping[str, Mapping[str, float]], *, title: str = "") -> str:
    """A fixed-width table of :func:`evaluate_voices`'s results, with an average row last."""
    keys = ("mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity")
    lines = [title] if title else []
    lines.append(f"{'speaker':>8} {'n':>3} {'MCD dB':>7} {'WER syn':>8} {'WER gt':>7} {'ratio':>6} {'sim':>6}")
    for speaker, r in results.items():
        lines.append(f"{speaker:>8} {r['n']:>3} {r['mcd']:>7.2f} {r['wer_synth']:>8.2f} {r['wer_truth']:>7.2f} "
                     f"{r['wer_ratio']:>6.2f} {r['similarity']:>6.3f}")
    mean = {k: float(np.nanmean([r[k] for r in results.values()])) for k in keys}
    # the ratio of the averages: one speaker whose recordings all pass (WER 0) is not infinite
    mean["wer_ratio"] = mean["wer_synth"] / mean["wer_truth"] if mean["wer_truth"] > 0 else float("inf")
    n = sum(r["n"] for r in results.values())
    lines.append(f"{'average':>8} {n:>3} {mean['mcd']:>7.2f} {mean['wer_synth']:>8.2f} {mean['wer_truth']:>7.2f} "
                 f"{mean['wer_ratio']:>6.2f} {mean['similarity']:>6.3f}")
    return "\n".join(lines)
