"""Text to speech end to end: text -> phonemes -> mel (TTS model) -> audio (a vocoder).

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

- :func:`synthesize`: text in one voice; the voice is a speaker name or id
  (a speaker-embedding model) or a reference clip to clone (a reference-encoder model).
  The vocoder is any ``log-mel -> audio`` function (:mod:`voicelab.vocoders`);
  Griffin-Lim by default. Text longer than :data:`voicelab.text.MAX_TEXT_CHARS` (a
  paragraph) is spoken sentence by sentence, with a pause between them.
- :func:`reference_mel`: the log-mel of a clip to clone, from audio or a file.

The widget that wraps it is ``voicelab.ui.tts_widget``; the per-speaker evaluation is
``voicelab.evaluation.tts``; training is ``voicelab.recipes.tts``.

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

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voicelab import text
from voicelab.dsp import audio as vl_audio
from voicelab.dsp import features
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.vocoders import Vocoder, griffin_lim_vocoder


# ----------------------------------------------------------------- the voice
def reference_mel(clip, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Log-mel ``[frames, n_mels]`` of a reference clip: float audio at ``config.sr`` or a file path."""
    if isinstance(clip, (str, os.PathLike)):
        y = vl_audio.load(clip, sr=config.sr)
    else:
        y = vl_audio.check_audio(clip, name="reference clip")
    return features.log_melspectrogram(y, config=config)


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


def _emotion_id(model, emotion: str | None, emotions: Sequence[str] | None) -> int | None:
    """The id of ``emotion`` among ``emotions``, checked against the model."""
    if emotion is None:
        return None
    if model.config.n_emotions <= 1:
        raise ParameterError(f"emotion={emotion!r}: this model was trained without an emotion input")
    names = list(emotions or [])
    if emotion not in names:
        raise ParameterError(f"emotion={emotion!r} is not one of emotions={names}")
    return names.index(emotion)


def _pause_frames(pause: float, config: AudioConfig) -> int:
    """``pause`` seconds as a whole number of mel frames, checked."""
    if isinstance(pause, bool) or not isinstance(pause, (int, float, np.integer, np.floating)) \
            or not np.isfinite(pause) or not 0 <= pause <= 10:
        raise ParameterError(f"pause={pause!r} must be a number of seconds in [0, 10]")
    return int(round(pause * config.sr / config.hop_length))


def synthesize(model, text_in: str, *, voice, config: AudioConfig = AudioConfig(), speed: float = 1.0,
               n_iter: int = 32, speakers: Sequence[str] | None = None, seed: int = 0,
               vocoder: Vocoder | None = None, emotion: str | None = None,
               emotions: Sequence[str] | None = None, pause: float = 0.3):
    """Speak ``text_in`` in ``voice``: ``(audio float32, mel [F, n_mels], durations [L])``.

    Text of up to :data:`voicelab.text.MAX_TEXT_CHARS` characters is spoken in one
    pass. Longer text (a paragraph) is split by :func:`voicelab.text.split_sentences`
    into sentences (an over-long sentence at its commas, then between words), each is
    spoken as if alone, and they are joined with ``pause`` seconds of silence. Every
    piece is checked before the model runs.

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
    emotion : str, optional
        For a model trained with an emotion input: one of ``emotions`` (the names in id
        order, e.g. ``["angry", "happy", "neutral", "sad"]``); default the first.
    emotions : sequence of str, optional
        The model's emotion names in id order.
    vocoder : callable, optional
        ``log-mel [F, n_mels] -> audio`` (:mod:`voicelab.vocoders`), e.g. the kit's
        trained default from ``voicelab.recipes.vocoder.load_vocoder``; ``None`` is
        Griffin-Lim with ``n_iter`` iterations. Its output is trimmed or zero-padded
        to ``F * hop_length`` samples. Long text is vocoded one piece at a time.
    pause : float
        Seconds of silence between the pieces of a long text, in [0, 10]; rounded to
        whole mel frames.

    Returns
    -------
    audio : ndarray float32 ``[F * hop_length]``; mel : ndarray ``[F, n_mels]`` (natural log);
    durations : ndarray int32 ``[L]``, frames per phoneme symbol, summing to ``F``. For
    long text, the pieces' symbols one after the other, each pause (silent audio, mel
    at its floor) counted in the duration of the symbol before it, the piece's last
    punctuation mark or word.

    Raises
    ------
    ParameterError
        Bad text (empty, another script...) in any piece, unknown voice, a bad ``pause``,
        or a ``config`` that is not the model's, before the model runs.
    """
    from librosa.util import fix_length

    from voicelab.models.tts import synthesize_mel

    if config != model.audio_config:
        raise ParameterError(f"config={config} is not the model's audio_config={model.audio_config}")
    gap = _pause_frames(pause, config)
    paragraph = isinstance(text_in, str) and len(text_in) > text.MAX_TEXT_CHARS
    pieces = [text.text_to_ids(piece) for piece in (text.split_sentences(text_in) if paragraph else [text_in])]
    kwargs = _voice_kwargs(model, voice, speakers, config)
    emotion_id = _emotion_id(model, emotion, emotions)
    vocoder = vocoder or griffin_lim_vocoder(config, n_iter=n_iter, seed=seed)
    audio, mels, durations = [], [], []
    for i, ids in enumerate(pieces):
        mel, dur = synthesize_mel(model, ids, speed=speed, emotion=emotion_id, **kwargs)
        y = fix_length(np.asarray(vocoder(mel), dtype=np.float32).ravel(), size=config.n_samples(len(mel)))
        if i < len(pieces) - 1 and gap:  # the pause after this piece
            y = np.concatenate([y, np.zeros(config.n_samples(gap), np.float32)])
            mel = np.concatenate([mel, features.log_mel(np.zeros((gap, mel.shape[1]))).astype(mel.dtype)])
            dur = np.concatenate([dur[:-1], [dur[-1] + gap]]).astype(dur.dtype)
        audio.append(y)
        mels.append(mel)
        durations.append(dur)
    if len(pieces) == 1:
        return audio[0], mels[0], durations[0]
    return np.concatenate(audio), np.concatenate(mels), np.concatenate(durations)
