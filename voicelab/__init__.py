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

The README's package table lists every module and the notebook that teaches it.
"""

from voicelab.errors import AudioError, DatasetError, ParameterError, VoicelabError

__version__ = "0.1.0"

__all__ = ["AudioError", "DatasetError", "ParameterError", "VoicelabError", "__version__"]
