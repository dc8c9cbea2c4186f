"""The kit's vocoder interface: a vocoder is a function ``log-mel [frames, n_mels] -> audio``.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``. Every notebook that makes sound
from a mel (02's TTS, 03's comparison, the conversions of 04-05) takes such a function,
so Griffin-Lim and a trained neural vocoder are interchangeable.
``voicelab.recipes.vocoder.load_vocoder`` returns the kit's trained default.

Both vocoders here write ``config.n_samples(frames) = frames * hop_length`` samples, so
their outputs line up with each other and with the recording the mel came from.

Example
-------
>>> import numpy as np
>>> vocode = griffin_lim_vocoder(AudioConfig(), n_iter=2)
>>> vocode(np.full((20, 80), -3.0, np.float32)).shape
(5120,)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voicelab.dsp import griffin_lim
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError

Vocoder = Callable[[np.ndarray], np.ndarray]
"""``log-mel [frames, n_mels] (natural log) -> float32 audio [frames * hop_length]``."""


def _check_mel(mel, config: AudioConfig) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[1] != config.n_mels:
        raise ParameterError(f"mel of shape {mel.shape}: a vocoder takes one [frames, {config.n_mels}] log-mel")
    return mel


def griffin_lim_vocoder(config: AudioConfig = AudioConfig(), *, n_iter: int = 32, seed: int = 0) -> Vocoder:
    """Mel pseudo-inverse, then ``n_iter`` fast Griffin-Lim iterations (notebook 01)."""
    def vocode(mel: np.ndarray) -> np.ndarray:
        mel = _check_mel(mel, config)
        y = griffin_lim.mel_to_audio(np.exp(mel), config=config, n_iter=n_iter, seed=seed,
                                     length=config.n_samples(len(mel)))
        return np.asarray(y, dtype=np.float32)
    vocode.__name__ = f"griffin_lim_{n_iter}"
    return vocode


def _as_inputs(model, batch):
    """``batch`` in the structure ``model`` was built with: a list of one for a model built
    from ``model.inputs`` (vocoders saved before it was built from ``model.input``), so that
    Keras does not warn at every call that the structures differ."""
    try:
        structure = model.input
    except (AttributeError, ValueError):    # a subclassed model: it takes what it is given
        return batch
    return [batch] if isinstance(structure, list) else batch


def neural_vocoder(generator, config: AudioConfig = AudioConfig()) -> Vocoder:
    """Wrap a trained generator ``[B, frames, n_mels] -> [B, samples(, 1)]`` as a vocoder.

    MelGAN's generator and the iSTFT vocoder both fit. The call is compiled once for
    every length (:func:`voicelab.train.backend_steps.inference_function`), the fast
    path on a CPU, and the same mel gives the same bits whatever was vocoded before. The
    output is trimmed or zero-padded to ``config.n_samples(frames)``.
    """
    from keras import ops
    from librosa.util import fix_length

    from voicelab.train.backend_steps import inference_function

    run = inference_function(lambda mel: generator(_as_inputs(generator, mel), training=False),
                             signature=[((None, None, config.n_mels), "float32")])

    def vocode(mel: np.ndarray) -> np.ndarray:
        mel = _check_mel(mel, config)
        if len(mel) < 4:
            raise ParameterError(f"mel has {len(mel)} frames: the neural vocoder needs at least 4")
        y = ops.convert_to_numpy(run(ops.convert_to_tensor(mel[None].astype(np.float32))))[0]
        y = y[:, 0] if y.ndim == 2 else y
        return fix_length(y.astype(np.float32), size=config.n_samples(len(mel)))
    vocode.__name__ = generator.name
    return vocode
