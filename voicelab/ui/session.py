"""A notebook's setup: Keras imported without backend chatter, and one line on the environment.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; every notebook's Setup section uses it.

- :func:`import_keras`: sets ``KERAS_BACKEND`` only if the user has not chosen one, and
  imports Keras with the C++ messages of its backend kept out of the notebook:
  TensorFlow's C++ logging (its start-up notices, twice, and "oneDNN supports DT_INT64
  only on platforms with AVX-512" at a model's first call) goes straight to the
  process's standard error, below Python. Python's own warnings and errors still show;
  a failed import still raises. ``VOICELAB_NATIVE_STDERR=1`` keeps the C++ messages.
- :func:`environment`: Python, voicelab, Keras and its backend, NumPy, matplotlib, and
  the device the backend computes on, in one line.

Example
-------
>>> "python" in environment(keras_module=None)
True
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys


@contextlib.contextmanager
def _quiet_stderr():
    """Send the process's standard error (file descriptor 2, where C++ libraries write) to /dev/null."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:       # no real descriptor (an embedded interpreter): nothing to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def import_keras(default_backend: str = "tensorflow"):
    """Import Keras on ``$KERAS_BACKEND`` (``default_backend`` if unset), without its backend's start-up chatter.

    Returns the ``keras`` module. The backend itself is imported here too, inside the
    silence (its first import is where it prints).
    """
    os.environ.setdefault("KERAS_BACKEND", default_backend)
    with _quiet_stderr():
        backend = os.environ["KERAS_BACKEND"]
        if backend in ("tensorflow", "torch", "jax"):
            importlib.import_module(backend)
        keras = importlib.import_module("keras")
    if os.environ.get("VOICELAB_NATIVE_STDERR", "") != "1":
        _native_stderr_to_null()
    return keras


def _native_stderr_to_null() -> None:
    """From now on, what C++ libraries write to file descriptor 2 is dropped; Python's ``sys.stderr`` still shows.

    In a notebook ``sys.stderr`` is the kernel's own stream (not descriptor 2), so it is
    untouched; in a script it is re-pointed at a copy of the original descriptor first.
    """
    try:
        uses_fd2 = sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):   # the kernel's stream has no descriptor
        uses_fd2 = False
    try:
        if uses_fd2:
            sys.stderr.flush()
            sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding,
                                   errors=sys.stderr.errors)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except OSError:      # no real descriptor (an embedded interpreter): nothing to silence
        pass


def device(keras_module) -> str:
    """Where the Keras backend computes: ``"CPU"`` or the GPU's name."""
    backend = keras_module.backend.backend()
    if backend == "torch":
        import torch

        return f"cuda {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "CPU"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return ", ".join(g.name for g in gpus) if gpus else "CPU"
    return "CPU"


def environment(keras_module=None) -> str:
    """One line: versions and the device (``keras_module``: the imported Keras, or ``None`` for a notebook without it)."""
    import matplotlib
    import numpy as np

    import voicelab

    parts = [f"python {platform.python_version()}", f"voicelab {voicelab.__version__}"]
    if keras_module is not None:
        parts.append(f"keras {keras_module.__version__} on {keras_module.backend.backend()}")
    parts += [f"numpy {np.__version__}", f"matplotlib {matplotlib.__version__}"]
    where = device(keras_module) if keras_module is not None else "CPU (this notebook needs no accelerator)"
    return ", ".join(parts) + f"; device: {where}"
