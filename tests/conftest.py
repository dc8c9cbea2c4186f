"""Shared fixtures: a fixed-seed generator and the smoke corpus, built once per run."""

from __future__ import annotations

import os

if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    # `make test` runs the suite on one pytest-xdist worker per core: each worker (and the
    # notebook kernels and training processes it starts) computes on one thread, so that
    # the workers do not fight over the cores (tests of the recognizer's processes ask for
    # them by number). Set before TensorFlow or PyTorch is imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("VOICELAB_WORKERS", "1")   # recognizer and features run in the worker itself

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
def emotional_corpus(data_dir):
    """Notebook 05's ``smoke`` corpus (every clip through WORLD once; 4 flite + 4 derived voices, 6 sentences).

    Built once per test session into ``data_dir / "corpus-smoke-emotional"``, where notebook 05 finds it.
    """
    from voicelab.recipes import speechsplit

    return speechsplit.build_emotional_corpus(speechsplit.recipe("smoke"), data_dir, progress=False)


@pytest.fixture(scope="session")
def speech(smoke_corpus) -> tuple[np.ndarray, int]:
    """One neutral corpus utterance as ``(float32 samples, sr)``."""
    import soundfile as sf

    utt = smoke_corpus.filter(emotion="neutral")[0]
    y, sr = sf.read(smoke_corpus.audio_path(utt), dtype="float32")
    return y, sr


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tiny models on one PyTorch thread (no-op on other backends).

    Two spinning intra-op threads on two shared cores made tiny-model tests 10x slower.
    Modules opt in with ``pytest.mark.usefixtures("one_torch_thread")``.
    """
    import keras

    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
