"""A training process for ``test_train_run.py`` to kill with SIGKILL and start again.

    python tests/train_worker.py KIND DATA_DIR KILL_AT_STEP

Trains ``KIND`` (``aligner``, ``tts``, ``melgan``, ``istft``, ``vqvae``, ``speechsplit``, ``judge``,
``voicegan`` or ``codegan``, which trains its SpeechSplit first, unkilled) with its notebook's smoke recipe on ``DATA_DIR/corpus-smoke`` (notebook 05's on
``DATA_DIR/corpus-smoke-emotional``) into ``DATA_DIR/models``. With ``KILL_AT_STEP > 0`` the process
sends itself SIGKILL (``kill -9``: no clean-up, no ``finally``) right after that
optimizer step, once the step's checkpoint, if any, is written. Otherwise it finishes
and prints the finished run's ``run.json`` and the epochs of its history as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import keras


class KillAt(keras.callbacks.Callback):
    """SIGKILL this process after optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None) -> None:
        from voicelab.train.callbacks import global_step

        if global_step(self.model) == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def train(kind: str, data_dir: str, kill_at: int):
    from voicelab.data import build_corpus
    from voicelab.recipes import conversion, speechsplit, tts, vocoder

    callbacks = [KillAt(kill_at)] if kill_at > 0 else []
    models = os.path.join(data_dir, "models")
    if kind in ("melgan", "istft"):
        r = vocoder.recipe("smoke")
        corpus = build_corpus(os.path.join(data_dir, "corpus-smoke"), profile="smoke", progress=False)
        train = vocoder.train_or_load_melgan if kind == "melgan" else vocoder.train_or_load_istft
        return train(r, corpus.filter(split="train"), models_dir=models, cache_dir=os.path.join(data_dir, "cache"),
                     verbose=0, callbacks=callbacks)
    if kind == "vqvae":
        r = conversion.recipe("smoke")
        return conversion.train_or_load_vqvae(r, conversion.prepare(r, data_dir=data_dir), "speaker",
                                              models_dir=models, verbose=0, callbacks=callbacks)
    if kind == "codegan":
        r = speechsplit.recipe("smoke")
        data = speechsplit.prepare(r, data_dir=data_dir, progress=False)
        model = speechsplit.train_or_load_speechsplit(r, data, models_dir=models, verbose=0).model
        return speechsplit.train_or_load_codegan(r, data, model, models_dir=models, callbacks=callbacks)
    if kind in ("speechsplit", "judge", "voicegan"):
        r = speechsplit.recipe("smoke")
        train = {"speechsplit": speechsplit.train_or_load_speechsplit, "judge": speechsplit.train_or_load_judge,
                 "voicegan": speechsplit.train_or_load_voicegan}[kind]
        return train(r, speechsplit.prepare(r, data_dir=data_dir, progress=False), models_dir=models, verbose=0,
                     callbacks=callbacks)
    r = tts.recipe("smoke")
    data = tts.prepare(r, data_dir=data_dir)
    if kind == "aligner":
        return tts.train_or_load_aligner(r, data, models_dir=models, verbose=0, callbacks=callbacks)
    aligner = tts.train_or_load_aligner(r, data, models_dir=models, verbose=0)
    return tts.train_or_load_tts(r, data, "speaker", durations=tts.durations(aligner.model, data),
                                 models_dir=models, verbose=0, callbacks=callbacks)


def main(argv: list[str]) -> int:
    kind, data_dir, kill_at = argv[0], argv[1], int(argv[2])
    keras.utils.set_random_seed(0)
    run = train(kind, data_dir, kill_at)
    epochs = {name: [s for s, _ in points] for name, points in run.history["epochs"].items()}
    print(json.dumps({"info": run.info, "loaded": run.loaded, "epoch_steps": epochs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
