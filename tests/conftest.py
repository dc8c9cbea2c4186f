"""Shared fixtures: a fixed-seed generator and the smoke corpus, built once per run."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed, so every random test input is reproducible."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A temporary ``DATA_DIR`` shared by the whole session (corpus, trained models)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def smoke_corpus(data_dir):
    """The ``smoke`` corpus (4 flite speakers, a dozen sentences, every emotion).

    Built once per test session into ``data_dir / "corpus-smoke"``, where the notebooks
    run by the tests find it; returns its ``Manifest``.
    """
    from voicelab.data import build_corpus

    return build_corpus(data_dir / "corpus-smoke", profile="smoke", seed=0, progress=False)


@pytest.fixture(scope="session")
def speech(smoke_corpus) -> tuple[np.ndarray, int]:
    """One neutral corpus utterance as ``(float32 samples, sr)``."""
    import soundfile as sf

    utt = smoke_corpus.filter(emotion="neutral")[0]
    y, sr = sf.read(smoke_corpus.audio_path(utt), dtype="float32")
    return y, sr
