"""Speech data: the offline corpus, manifests, dataset readers and batching.

- :func:`build_corpus` speaks the offline, parallel, multi-speaker, multi-emotion
  corpus (:mod:`voicelab.data.corpus`, with :mod:`~voicelab.data.speakers`,
  :mod:`~voicelab.data.emotion` and :mod:`~voicelab.data.grammar`), in the notebooks'
  :func:`corpus_folder` for a profile and seed (notebook 01; notebook 05 builds an
  emotional variant: every clip through WORLD once, derived voices); :func:`speak_sentences`
  has its speakers say any other text the same way (e.g. sentences held out of every corpus);
- :class:`Manifest` / :class:`Utterance`, :func:`read_manifest`, :func:`write_manifest`:
  the one record format every corpus and reader produces (:mod:`voicelab.data.manifest`; notebook 01);
- ``read_ljspeech``, ``read_vctk``, ``read_libritts``, ``read_esd``, ``read_common_voice``:
  datasets already on disk as the same manifest (:mod:`voicelab.data.readers`), for any notebook;
- :class:`FeatureCache`: each clip's resampled audio, log-mel and f0, kept on disk and
  computed for many clips at once in worker processes (:mod:`voicelab.data.cache`; notebook 02);
- :class:`SpeechBatches` / :class:`AudioSegments`: padded batches for Keras on either
  backend (:mod:`voicelab.data.pipeline`; notebooks 02 and 03), and the phoneme
  durations the TTS model trains on (:mod:`voicelab.data.durations`; notebook 02).

Introduced in ``notebooks/01_audio_features.ipynb``; notebook 04 uses the corpus's
parallel recordings as they are. Notebooks 06-07 (spoken-command datasets, a long
recording of one voice) will add their data here.
"""

from voicelab.data.cache import FeatureCache
from voicelab.data.corpus import build_corpus, corpus_folder, read_build_info, speak_sentences
from voicelab.data.manifest import Manifest, Utterance, read_manifest, write_manifest
from voicelab.data.readers import (
    read_common_voice,
    read_esd,
    read_libritts,
    read_ljspeech,
    read_vctk,
)

_PIPELINE = ("SpeechBatches", "AudioSegments", "pad_batch", "MEL_PAD")


def __getattr__(name):
    # The batching pipeline imports keras (seconds): load it on first use only.
    if name in _PIPELINE:
        from voicelab.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'voicelab.data' has no attribute {name!r}")

__all__ = [
    *_PIPELINE,
    "FeatureCache",
    "Manifest",
    "Utterance",
    "build_corpus",
    "corpus_folder",
    "speak_sentences",
    "read_build_info",
    "read_common_voice",
    "read_esd",
    "read_libritts",
    "read_ljspeech",
    "read_manifest",
    "read_vctk",
    "write_manifest",
]
