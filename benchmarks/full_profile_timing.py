"""Time every training of the notebooks' ``full`` profile on this machine, and project its minutes.

The ``full`` profile is meant for one GPU and at most 8 minutes of training per notebook.
This script checks that budget by measurement rather than estimate. On a small corpus of
the same kind (``--corpus``: the four flite voices, 40 sentences, neutral and angry, so
that a batch of 128 fits; built there if the folder holds none), it runs each training of notebooks 02-05 with the
``full`` recipe's networks, batch sizes and windows for a few epochs, through the same
recipe functions as the notebooks, and measures:

- the seconds per training step once warm: the first epoch of each stage (tracing,
  cuDNN autotuning, feature extraction into the cache) is left out;
- the seconds each epoch spends validating, scaled to the full corpus's validation split,
  and on the rest (checkpoints, logs), which does not scale.

It multiplies them by the steps and epochs that the ``full`` recipe takes on the full
corpus (notebooks 02-04: 10 voices x 480 training sentences; notebook 05: 90 voices x 48
training sentences; four emotions) and prints one table: each training, its parameters,
seconds per step, full steps and projected minutes, and each notebook's total against the
8-minute budget. ``--out`` also receives the table as ``timing.md`` and ``timing.json``.

    KERAS_BACKEND=torch python benchmarks/full_profile_timing.py --corpus data/corpus-timing --out outputs/timing

The corpus is built with the system synthesizers; on a machine without them (a GPU
machine, say), bring the folder built elsewhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402

BUDGET_MINUTES = 8.0
FULL_CORPUS = {"speakers": 10, "train": 480, "valid": 60}
"""The ``full`` corpus of notebooks 02-04: the 10 built-in voices x 600 sentences (10 % valid, 10 % test)."""
FULL_EMOTIONAL = {"speakers": 90, "train": 48, "valid": 6}
"""Notebook 05's ``full`` corpus: 10 built-in + 80 derived voices x 60 sentences."""
EMOTIONS = 4


class StepTimer(keras.callbacks.Callback):
    """Wall time of each training step, of each epoch's validation and of the rest of the epoch (checkpoints, logs).

    A step's time runs from the previous step's end (so it includes loading its batch),
    or from its own start for an epoch's first step. Stages (``fit`` calls) are counted
    by ``on_train_begin``; validation by ``on_test_begin`` / ``on_test_end``, which
    ``fit`` calls around it.
    """

    def __init__(self):
        super().__init__()
        self.epochs: list[dict] = []   # {"stage", "steps": [seconds], "validation": seconds, "rest": seconds}
        self.stage = -1
        self.current: dict | None = None

    def on_train_begin(self, logs=None):
        self.stage += 1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = self.last = time.perf_counter()
        self.current = {"stage": self.stage, "steps": [], "validation": 0.0}

    def on_train_batch_begin(self, batch, logs=None):
        if not self.current["steps"]:
            self.last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.current["steps"].append(now - self.last)
        self.last = now

    def on_test_begin(self, logs=None):
        self.test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        if self.current is not None:
            self.current["validation"] += time.perf_counter() - self.test_start

    def on_epoch_end(self, epoch, logs=None):
        total = time.perf_counter() - self.epoch_start
        self.current["rest"] = total - sum(self.current["steps"]) - self.current["validation"]
        self.epochs.append(self.current)

    def per_stage(self) -> dict[int, dict]:
        """Stage -> warm seconds per step, warm seconds of validation and of the rest per epoch, timed steps."""
        out = {}
        for stage in sorted({e["stage"] for e in self.epochs}):
            epochs = [e for e in self.epochs if e["stage"] == stage]
            warm = epochs[1:] or epochs   # a one-epoch stage: all its steps but the first
            steps = [s for e in warm for s in (e["steps"] if len(epochs) > 1 else e["steps"][1:])]
            if not steps:
                raise RuntimeError(f"stage {stage}: no warm steps to time; give it more epochs")
            out[stage] = {"step": sum(steps) / len(steps), "timed": len(steps),
                          **{k: sum(e[k] for e in warm) / len(warm) for k in ("validation", "rest")}}
        return out


def _row(notebook, name, model, stage, *, batch, full_steps, full_epochs=0, valid_scale=1.0, note="", training=True):
    """A table row: ``full_steps`` steps and ``full_epochs`` epochs, whose validation is
    ``valid_scale`` times the timed one (the full validation split's batches over the timed one's)."""
    seconds = full_steps * stage["step"] + full_epochs * (stage["validation"] * valid_scale + stage["rest"])
    return {"notebook": notebook, "run": name, "parameters": int(model.count_params()) if model else None,
            "batch": batch, "s_per_step": round(stage["step"], 4), "timed_steps": stage["timed"],
            "s_validation_per_epoch": round(stage["validation"], 3), "s_rest_per_epoch": round(stage["rest"], 3),
            "full_steps": int(full_steps), "full_epochs": int(full_epochs), "projected_min": round(seconds / 60, 2),
            "training": training, "note": note}


def _time_run(train, *args, **kwargs):
    """``train(*args, **kwargs)`` (a recipe's ``train_or_load_*``) afresh, silently, timed:
    ``(its Run, StepTimer.per_stage())``."""
    timer = StepTimer()
    run = train(*args, retrain=True, verbose=0, callbacks=[timer], **kwargs)
    return run, timer.per_stage()


def _batches(items: int, batch_size: int) -> int:
    return math.ceil(items / batch_size)


# ------------------------------------------------------------------ notebook 02


def time_tts(corpus, work: Path, epochs: int, *, batch_scale: int = 1, main_only: bool = False) -> list[dict]:
    from voicelab.recipes import tts

    full = tts.recipe("full")
    full = full.with_changes(batch_size=full.batch_size * batch_scale)
    b = full.batch_size
    timed = full.with_changes(align_epochs=epochs, tts_epochs=epochs, reference_epochs=epochs, emotion_epochs=epochs)
    data = tts.prepare(timed, data_dir=work, corpus=corpus)
    valid_scale = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["valid"], full.batch_size) / len(data.batches["valid"])
    neutral_batches = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["train"], full.batch_size)
    rows = []

    run, stages = _time_run(tts.train_or_load_aligner, timed, data, models_dir=work / "models")
    aligner = run.model
    rows.append(_row("02", "aligner", aligner, stages[0], batch=b, full_steps=full.align_epochs * neutral_batches,
                     full_epochs=full.align_epochs, valid_scale=valid_scale))
    durations = tts.durations(aligner, data)

    speaker = None
    for voice in ("speaker",) if main_only else ("speaker", "reference"):
        run, stages = _time_run(tts.train_or_load_tts, timed, data, voice, durations=durations,
                                models_dir=work / "models", start_from=speaker)
        epochs_full = full.epochs_of(voice)
        rows.append(_row("02", f"TTS, {voice} voice", run.model, stages[0], batch=b,
                         full_steps=epochs_full * neutral_batches, full_epochs=epochs_full, valid_scale=valid_scale,
                         note="warm-started from the speaker-id model" if speaker is not None else ""))
        speaker = speaker or run.model
    if main_only:
        return rows

    emotional = timed.emotion_variant()
    emotion_data = tts.prepare(emotional, data_dir=work, corpus=corpus)
    emotion_durations = tts.durations(aligner, emotion_data)
    run, stages = _time_run(tts.train_or_load_tts, emotional, emotion_data, "speaker", durations=emotion_durations,
                            models_dir=work / "models", start_from=speaker)
    batches = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["train"] * EMOTIONS, full.batch_size)
    rows.append(_row("02", "TTS, emotions + variance adaptor", run.model, stages[0], batch=b,
                     full_steps=full.emotion_epochs * batches, full_epochs=full.emotion_epochs,
                     valid_scale=valid_scale * EMOTIONS * len(data.batches["valid"]) / len(emotion_data.batches["valid"])))
    return rows


# ------------------------------------------------------------------ notebook 03


def time_vocoders(corpus, work: Path, epochs: int, *, batch_scale: int = 1, main_only: bool = False,
                  per_epoch: int = 10) -> list[dict]:
    from voicelab.recipes import vocoder

    full = vocoder.recipe("full")
    full = full.with_changes(
        plan=dataclasses.replace(full.plan, batch_size=full.plan.batch_size * batch_scale),
        istft_plan=dataclasses.replace(full.istft_plan, batch_size=full.istft_plan.batch_size * batch_scale),
        adapt_plan=dataclasses.replace(full.adapt_plan, batch_size=full.adapt_plan.batch_size * batch_scale))
    train = vocoder.training_clips(corpus)
    rows = []

    melgan_plan = dataclasses.replace(full.plan, steps=2 * epochs * per_epoch, warmup_steps=epochs * per_epoch,
                                      steps_per_epoch=per_epoch)
    run, stages = _time_run(vocoder.train_or_load_melgan, full.with_changes(plan=melgan_plan), train,
                            models_dir=work / "models", cache_dir=work / "cache")
    rows.append(_row("03", "MelGAN, warm-up (STFT loss)", run.model, stages[0], batch=full.plan.batch_size,
                     full_steps=full.plan.warmup_steps))
    rows.append(_row("03", "MelGAN, GAN", run.model, stages[1], batch=full.plan.batch_size, full_steps=full.plan.steps - full.plan.warmup_steps,
                     note="the generator's parameters; the discriminators train too"))

    istft_plan = dataclasses.replace(full.istft_plan, steps=epochs * per_epoch, steps_per_epoch=per_epoch)
    run, stages = _time_run(vocoder.train_or_load_istft, full.with_changes(istft_plan=istft_plan), train,
                            models_dir=work / "models", cache_dir=work / "cache")
    stage = stages[0]
    rows.append(_row("03", "iSTFT vocoder (the kit's)", run.model, stage, batch=full.istft_plan.batch_size,
                     full_steps=full.istft_plan.steps))
    rows.append(_row("03", "iSTFT vocoder adapted to 02's mels", run.model, stage,
                     batch=full.adapt_plan.batch_size, full_steps=full.adapt_plan.steps,
                     note="same network and windows: the step time above"))
    return rows


# ------------------------------------------------------------------ notebook 04


def time_vqvae(corpus, work: Path, epochs: int, *, batch_scale: int = 1, main_only: bool = False) -> list[dict]:
    from voicelab.recipes import conversion

    full = conversion.recipe("full")
    full = full.with_changes(batch_size=full.batch_size * batch_scale)
    timed = full.with_changes(epochs=epochs)
    data = conversion.prepare(timed, data_dir=work, corpus=corpus)
    valid_scale = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["valid"], full.batch_size) / len(data.batches["valid"])
    batches = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["train"], full.batch_size)
    rows = []
    study_epochs = max(1, full.epochs // 4)   # notebook 04, section 9
    variants = [("VQ-VAE, speaker id", timed, "speaker", full.epochs),
                ("VQ-VAE, resemblyzer voice", timed, "embedding", full.epochs),
                ("VQ-VAE, too wide (study)", timed.with_changes(n_codes=512, downsample=1), "speaker", study_epochs),
                ("VQ-VAE, too narrow (study)", timed.with_changes(n_codes=16, downsample=16), "speaker", study_epochs)]
    if main_only:
        variants = variants[:1]
    else:
        started = time.perf_counter()
        conversion.add_embeddings(data)
        embed_seconds = (time.perf_counter() - started) / max(len(data.embeddings), 1)
    for name, r, voice, epochs_full in variants:
        run, stages = _time_run(conversion.train_or_load_vqvae, r, data, voice, models_dir=work / "models")
        rows.append(_row("04", name, run.model, stages[0], batch=full.batch_size, full_steps=epochs_full * batches,
                         full_epochs=epochs_full, valid_scale=valid_scale))
    if main_only:
        return rows
    clips = FULL_CORPUS["speakers"] * (FULL_CORPUS["train"] + 2 * FULL_CORPUS["valid"])
    rows.append(_row("04", "resemblyzer embeddings", None, {"step": embed_seconds, "validation": 0.0, "rest": 0.0,
                                                             "timed": len(data.embeddings)},
                     batch=1, full_steps=clips, training=False, note="seconds per clip, not a training step"))
    return rows


# ------------------------------------------------------------------ notebook 05


def time_speechsplit(corpus, work: Path, epochs: int, *, batch_scale: int = 1, main_only: bool = False) -> list[dict]:
    from voicelab.recipes import speechsplit

    full = speechsplit.recipe("full")
    full = full.with_changes(batch_size=full.batch_size * batch_scale)
    b = full.batch_size
    timed = full.with_changes(epochs=epochs, judge_epochs=epochs, codegan_epochs=epochs, voicegan_epochs=epochs * 4)
    data = speechsplit.prepare(timed, data_dir=work, corpus=corpus, progress=False)
    items = FULL_EMOTIONAL["speakers"] * FULL_EMOTIONAL["train"] * EMOTIONS
    batches = _batches(items, full.batch_size)
    emotions_here = len(data.emotions)
    valid_scale = (_batches(FULL_EMOTIONAL["speakers"] * FULL_EMOTIONAL["valid"] * EMOTIONS, full.batch_size)
                   / len(data.batches["valid"]))
    rows = []

    run, stages = _time_run(speechsplit.train_or_load_judge, timed, data, models_dir=work / "models")
    judge = run.model
    rows.append(_row("05", "emotion judge", judge, stages[0], batch=b, full_steps=full.judge_epochs * batches,
                     full_epochs=full.judge_epochs, valid_scale=valid_scale))
    plain_batches = _batches(FULL_CORPUS["speakers"] * FULL_CORPUS["train"] * EMOTIONS, full.batch_size)
    rows.append(_row("05", "emotion judge on the ordinary corpus (WORLD cue check)", judge, stages[0], batch=b,
                     full_steps=full.judge_epochs * plain_batches, full_epochs=full.judge_epochs,
                     valid_scale=valid_scale * (FULL_CORPUS["speakers"] * FULL_CORPUS["valid"])
                     / (FULL_EMOTIONAL["speakers"] * FULL_EMOTIONAL["valid"]),
                     note="same network: the step time above"))

    run, stages = _time_run(speechsplit.train_or_load_speechsplit, timed, data, models_dir=work / "models")
    model = run.model
    rows.append(_row("05", "SpeechSplit", model, stages[0], batch=b, full_steps=full.epochs * batches,
                     full_epochs=full.epochs, valid_scale=valid_scale))
    if main_only:
        return rows

    run, stages = _time_run(speechsplit.train_or_load_codegan, timed, data, model, models_dir=work / "models")
    rows.append(_row("05", "CodeGAN", run.model, stages[0], batch=32, full_steps=full.codegan_epochs * (items // 32),
                     full_epochs=full.codegan_epochs, valid_scale=valid_scale,
                     note=f"timed with {emotions_here} emotions; full has {EMOTIONS}"))

    run, stages = _time_run(speechsplit.train_or_load_voicegan, timed, data, models_dir=work / "models")
    clips = FULL_EMOTIONAL["speakers"] * speechsplit.EMBEDDING_CLIPS
    rows.append(_row("05", "VoiceGAN", run.model, stages[0], batch=32,
                     full_steps=full.voicegan_epochs * max(1, clips // 32), full_epochs=full.voicegan_epochs))
    return rows


NOTEBOOKS = {"02": time_tts, "03": time_vocoders, "04": time_vqvae, "05": time_speechsplit}


def totals(rows: list[dict]) -> list[dict]:
    """Each notebook's projected training minutes (rows with ``training``) against the budget."""
    out = []
    for notebook in sorted({r["notebook"] for r in rows}):
        minutes = sum(r["projected_min"] for r in rows if r["notebook"] == notebook and r["training"])
        out.append({"notebook": notebook, "projected_min": round(minutes, 1), "budget_min": BUDGET_MINUTES,
                    "scale_to_fit": round(min(1.0, BUDGET_MINUTES / minutes), 3) if minutes else 1.0})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus folder (python -m voicelab corpus)")
    parser.add_argument("--notebooks", nargs="+", default=list(NOTEBOOKS), choices=list(NOTEBOOKS))
    parser.add_argument("--epochs", type=int, default=6, help="epochs of each timed training (the first is not timed)")
    parser.add_argument("--batch-scale", type=int, default=1,
                        help="multiply the full recipes' batch sizes (CodeGAN's and VoiceGAN's stay 32)")
    parser.add_argument("--main-only", action="store_true",
                        help="time only the main training of each notebook (aligner and speaker-id TTS, the "
                             "vocoders, the speaker-id VQ-VAE, the judge and SpeechSplit)")
    parser.add_argument("--vocoder-steps", type=int, default=10, help="steps per epoch of the vocoders' timed runs")
    parser.add_argument("--out", type=Path, default=None, help="folder for timing.md and timing.json")
    args = parser.parse_args(argv)

    from voicelab.data import build_corpus, read_manifest
    from voicelab.data.speakers import FLITE_SPEAKERS
    from voicelab.evaluation.tables import format_table

    if (args.corpus / "manifest.jsonl").is_file():
        corpus = read_manifest(args.corpus / "manifest.jsonl")
    else:
        corpus = build_corpus(args.corpus, profile="full", speakers=list(FLITE_SPEAKERS), emotions=["neutral", "angry"],
                              n_sentences=40)
    device = describe_device()
    print(f"backend {keras.backend.backend()}, {device}; corpus {args.corpus} ({len(corpus)} clips)", flush=True)
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for notebook in args.notebooks:
            started = time.perf_counter()
            extra = {"per_epoch": args.vocoder_steps} if notebook == "03" else {}
            extra |= {"batch_scale": args.batch_scale, "main_only": args.main_only}
            try:
                new = NOTEBOOKS[notebook](corpus, Path(tmp) / notebook, args.epochs, **extra)
            except Exception:   # the other notebooks are still timed; the exit status says it failed
                traceback.print_exc()
                failed.append(notebook)
                continue
            rows += new
            print(format_table(new), flush=True)
            print(f"notebook {notebook} timed in {time.perf_counter() - started:.0f} s\n", flush=True)
            if args.out:
                write(args.out, rows, device)
    summary = totals(rows)
    print(format_table(summary))
    print("projected full training minutes: " + ", ".join(f"{t['notebook']} {t['projected_min']}" for t in summary)
          + f" (budget {BUDGET_MINUTES:g} each)" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def write(out: Path, rows: list[dict], device: str) -> None:
    """``timing.json`` and ``timing.md`` in ``out``."""
    from voicelab.evaluation.tables import format_table

    out.mkdir(parents=True, exist_ok=True)
    summary = totals(rows)
    (out / "timing.json").write_text(json.dumps({"device": device, "backend": keras.backend.backend(),
                                                 "rows": rows, "totals": summary}, indent=1))
    (out / "timing.md").write_text(f"{device}, Keras {keras.backend.backend()}\n\n" + format_table(rows) + "\n\n"
                                   + format_table(summary) + "\n")


def describe_device() -> str:
    """The accelerator Keras trains on, in words."""
    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            return f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
        return f"CPU ({torch.get_num_threads()} threads), torch {torch.__version__}"
    return f"{keras.backend.backend()} backend"


if __name__ == "__main__":
    raise SystemExit(main())
