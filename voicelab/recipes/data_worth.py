"""What synthetic command data is worth: accuracy against its amount, and its worth in recorded clips.

Introduced in ``notebooks/06_spoken_command_data.ipynb`` (section 9), on the recipe of
:mod:`voicelab.recipes.recogniser`:

- :func:`amount_curve`: the recogniser trained on the first ``n`` of its training clips
  (``train_clips``, each in its own run folder), scored on a held-out split;
- :func:`recorded_equivalence`: how many clips of voices the synthetic training never
  heard a model trained on them alone needs to equal the model trained on synthetic speech
  only: Lin et al. (2020) found synthetic speech worth about 500 real examples for keyword
  spotting. The ``test_voices`` split stands in for recordings: its voices are dealt into
  two halves, one to train on (the "recorded" clips), the other to test every model on.

Both train through :func:`voicelab.train.train_or_load`: a rerun loads, a killed one resumes.
"""

from __future__ import annotations

import math
import os

import numpy as np

from voicelab.errors import DatasetError
from voicelab.models.recogniser import predict
from voicelab.recipes.recogniser import (
    RecogniserData,
    RecogniserRecipe,
    clean,
    evaluate,
    train_or_load_recogniser,
)


def amount_curve(r: RecogniserRecipe, data: RecogniserData, which: str = "augmented", *, amounts,
                 models_dir: str | os.PathLike, split: str = "test_voices", condition: str = "noisy",
                 retrain: bool = False) -> list[dict]:
    """``[{"clips", "intent_accuracy", "wer", "train_seconds"}]``: set ``which`` trained on each amount."""
    rows = []
    for n in amounts:
        run = train_or_load_recogniser(r.with_changes(train_clips=int(n)), data, which, models_dir=models_dir,
                                       retrain=retrain, verbose=0)
        s = evaluate(run.model, data, split, condition=condition)
        rows.append({"clips": int(n), "intent_accuracy": s["intent_accuracy"], "wer": s["wer"],
                     "train_seconds": run.seconds})
    return rows


def voice_halves(data: RecogniserData) -> tuple[list, list]:
    """The ``test_voices`` clips (clean) of every other held-out voice (sorted by name): ``(recorded, test)``."""
    clips = [clean(u) for u in data.corpus.filter(split="test_voices")]
    voices = sorted({u.speaker for u in clips})
    if len(voices) < 2:
        raise DatasetError(f"test_voices has {len(voices)} voice(s): two or more are needed to train on some "
                           "and test on others")
    recorded = set(voices[::2])
    return [u for u in clips if u.speaker in recorded], [u for u in clips if u.speaker not in recorded]


def intent_accuracy(model, data: RecogniserData, clips) -> float:
    """The intent head's accuracy on ``clips``."""
    answers = predict(model, [data.cache.mel(u) for u in clips])
    return float(np.mean([intent == u.meta["intent"] for u, (_, intent, _) in zip(clips, answers)]))


def recorded_equivalence(r: RecogniserRecipe, data: RecogniserData, reference, *, sizes,
                         models_dir: str | os.PathLike, steps: int = 300, retrain: bool = False) -> dict:
    """Models trained from scratch on ``n`` "recorded" clips (one half of the held-out voices), each for about
    ``steps`` optimizer steps, against ``reference`` (the synthetic-only model), all scored on the other half.

    Returns ``{"rows": [{"clips", "intent_accuracy", "train_seconds"}], "reference": accuracy,
    "equivalent": the fewest clips that reach it, or None, "available": recorded clips there are}``.
    """
    recorded, test = voice_halves(data)
    order = np.random.default_rng(r.seed).permutation(len(recorded))
    mean, std = data.stats["synthetic"]
    rows = []
    for n in [n for n in sizes if n <= len(recorded)]:
        chosen = [recorded[i] for i in sorted(order[:n])]
        epochs = max(r.epochs, math.ceil(steps / math.ceil(n / r.batch_size)))
        rn = r.with_changes(train_clips=int(n), epochs=epochs)
        run = train_or_load_recogniser(
            rn, data, "synthetic", models_dir=models_dir, retrain=retrain, verbose=0, clips=chosen,
            run_name=rn.run_name("synthetic").replace("asr-synthetic", "asr-recorded"),
            record={"recorded_voices": sorted({u.speaker for u in recorded}), "mel": [mean, std]})
        rows.append({"clips": n, "intent_accuracy": intent_accuracy(run.model, data, test),
                     "train_seconds": run.seconds})
    target = intent_accuracy(reference, data, test)
    reached = [row["clips"] for row in rows if row["intent_accuracy"] >= target]
    return {"rows": rows, "reference": target, "equivalent": min(reached) if reached else None,
            "available": len(recorded), "test_clips": len(test)}
