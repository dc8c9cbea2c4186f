"""voicelab: a notebook-first kit for learning neural voice synthesis.

The package is what the numbered notebooks in ``notebooks/`` import. Its layers, from
the bottom; a module imports only from its own layer or the ones below:

1. ``voicelab.errors``, ``voicelab.profiles``   errors and the smoke / quick / full profiles
2. ``voicelab.dsp`` (audio, features, griffin_lim), ``voicelab.text``   signals and text
3. ``voicelab.data``     the offline corpus, manifests, dataset readers, batching
4. ``voicelab.train``    the one training stack: train_or_load, checkpoints, guard, history
5. ``voicelab.models``   layers, losses and the models of the notebooks
6. ``voicelab.vocoders``, ``voicelab.synthesis``   mel -> audio and text -> audio
7. ``voicelab.evaluation``   metrics, score tables, listening tests
8. ``voicelab.ui``       plots and widgets
9. ``voicelab.recipes``  one module per notebook: per-profile configuration, train, evaluate

What each notebook introduces (later notebooks reuse it; each subpackage's docstring
says it module by module):

- 01 audio features: ``dsp`` (audio, features, griffin_lim), ``profiles``, ``text``,
  the offline corpus in ``data`` (corpus, speakers, emotion, grammar, manifest),
  ``ui`` (plots, widgets);
- 02 CNN + BiLSTM TTS: ``models`` (layers, losses, tts, variance, align), ``data``
  (cache, durations, pipeline), ``train``, ``synthesis``, ``evaluation`` (metrics,
  tables, tts), ``ui.tts_widget``;
- 03 MelGAN vocoder: ``models`` (melgan, weight_norm, istft_vocoder), ``vocoders``,
  ``train.backend_steps``, ``evaluation.vocoders``, ``ui.listening``;
- 04 VQ-VAE voice conversion: ``models`` (vq, vqvae), ``evaluation.conversion``,
  ``ui.conversion_widget``, ``sweep``;
- 05 emotional voice cloning: ``dsp.prosody``, ``models`` (speechsplit, emotion,
  voicegan, codegan), ``evaluation.emotion``.

Coming, each into the layer its modules belong to: 06 spoken-command datasets and a
recogniser, 07 a long recording made into a new voice and streaming recognition, 08 a
talking face, and a conversation in the browser.

The README's package table lists every module and the notebook that teaches it.
"""

from voicelab.errors import AudioError, DatasetError, ParameterError, VoicelabError

__version__ = "0.1.0"

__all__ = ["AudioError", "DatasetError", "ParameterError", "VoicelabError", "__version__"]
