"""Listening tests in the notebook: MUSHRA-style ratings and A/B/X trials.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``; later notebooks reuse it.

Numbers such as PESQ only predict what people hear, so every comparison in the kit
ends with ears. The design follows the standard protocols in miniature:

- **MUSHRA-style** (ITU-R BS.1534): for each sentence the listener rates every system
  from 0 to 100 against an open reference; a *hidden reference* (the reference again,
  unlabelled) sits among the systems, and a listener who does not rate it near 100 is
  not listening carefully. The order of systems is shuffled per trial.
- **A/B/X**: two systems A and B and a clip X that is one of them; the listener says
  which. Chance is 50 %: a rate near 50 % means the two are indistinguishable.

Trials are built from a seed (reproducible), ratings are appended to a CSV as they are
given (nothing is lost if the kernel dies), and :func:`summarize` gives each system's
mean and 95 % confidence interval.

Example
-------
>>> import numpy as np
>>> clips = {"s1": {"reference": np.zeros(8), "melgan": np.ones(8), "griffin_lim": np.ones(8)}}
>>> trials = mushra_trials(clips, reference="reference", seed=0)
>>> sorted(trials[0].systems)
['griffin_lim', 'hidden_reference', 'melgan']
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import os
from pathlib import Path

import numpy as np

from voicelab.errors import ParameterError

HIDDEN_REFERENCE = "hidden_reference"
FIELDS = ("listener", "test", "trial", "item", "system", "rating", "answer", "correct", "time")


@dataclasses.dataclass(frozen=True)
class Trial:
    """One screen of a listening test.

    ``systems`` is the order the listener sees (already shuffled); ``clips`` maps each
    system name to its audio; for A/B/X, ``answer`` is the system X really is.
    """

    index: int
    item: str
    systems: tuple[str, ...]
    clips: dict
    reference: np.ndarray | None = None
    answer: str | None = None


def _check_clips(clips: dict, needed: tuple[str, ...]) -> None:
    if not clips:
        raise ParameterError("clips is empty: give {item: {system: audio}}")
    for item, systems in clips.items():
        missing = [s for s in needed if s not in systems]
        if missing:
            raise ParameterError(f"item {item!r} has no clip for system(s) {', '.join(missing)}")


def mushra_trials(clips: dict[str, dict[str, np.ndarray]], *, reference: str, seed: int = 0) -> list[Trial]:
    """MUSHRA-style trials: each item's systems plus a hidden reference, shuffled.

    Parameters
    ----------
    clips : dict
        ``{item: {system: audio}}``; each item must have the ``reference`` system.
    reference : str
        The system that is the open (and hidden) reference, e.g. the recording.
    seed : int
        Seeds the order of items and of systems within each trial.
    """
    _check_clips(clips, (reference,))
    rng = np.random.default_rng(seed)
    trials = []
    for index, item in enumerate(rng.permutation(sorted(clips))):
        systems = {name: y for name, y in clips[item].items() if name != reference}
        if not systems:
            raise ParameterError(f"item {item!r} has only the reference: nothing to rate")
        systems[HIDDEN_REFERENCE] = clips[item][reference]
        order = tuple(str(name) for name in rng.permutation(sorted(systems)))
        trials.append(Trial(index, str(item), order, systems, reference=clips[item][reference]))
    return trials


def abx_trials(clips: dict[str, dict[str, np.ndarray]], *, a: str, b: str, seed: int = 0) -> list[Trial]:
    """A/B/X trials between systems ``a`` and ``b``; X is drawn at random per item."""
    _check_clips(clips, (a, b))
    rng = np.random.default_rng(seed)
    trials = []
    for index, item in enumerate(rng.permutation(sorted(clips))):
        x = a if rng.random() < 0.5 else b
        shown = {"A": clips[item][a], "B": clips[item][b], "X": clips[item][x]}
        trials.append(Trial(index, str(item), (a, b), shown, answer=x))
    return trials


class RatingLog:
    """Ratings appended to a CSV file, one row per judgement, flushed at once."""

    def __init__(self, path: str | os.PathLike, *, listener: str = "anonymous", test: str = "mushra"):
        self.path = Path(path)
        self.listener, self.test = listener, test
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size == 0:
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(FIELDS)

    def _append(self, row: dict) -> None:
        row = {"listener": self.listener, "test": self.test, "time": datetime.datetime.now().isoformat(timespec="seconds"), **row}
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, FIELDS).writerow(row)

    def rate(self, trial: Trial, system: str, rating: float) -> None:
        """Record a 0-100 rating of ``system`` in ``trial``."""
        if system not in trial.systems:
            raise ParameterError(f"system {system!r} is not in trial {trial.index} ({', '.join(trial.systems)})")
        if not 0 <= rating <= 100:
            raise ParameterError(f"rating={rating} must be between 0 and 100")
        self._append({"trial": trial.index, "item": trial.item, "system": system, "rating": float(rating)})

    def choose(self, trial: Trial, answer: str) -> bool:
        """Record an A/B/X answer (a system name); returns whether it was right."""
        if trial.answer is None:
            raise ParameterError(f"trial {trial.index} is not an A/B/X trial")
        if answer not in trial.systems:
            raise ParameterError(f"answer {answer!r} must be one of {', '.join(trial.systems)}")
        correct = answer == trial.answer
        self._append({"trial": trial.index, "item": trial.item, "system": "/".join(trial.systems),
                      "answer": answer, "correct": int(correct)})
        return correct


def read_ratings(path: str | os.PathLike) -> list[dict]:
    """The rows of a ratings CSV as dicts (ratings as floats)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["rating"] = float(row["rating"]) if row["rating"] else None
        row["correct"] = int(row["correct"]) if row["correct"] else None
    return rows


def summarize(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """Per system: number of ratings, mean, and the 95 % confidence half-width.

    For A/B/X rows the "system" is ``"a/b"`` and the mean is the share of right answers
    (times 100, so both tests read in the same units).
    """
    per_system: dict[str, list[float]] = {}
    for row in read_ratings(path):
        value = row["rating"] if row["rating"] is not None else 100.0 * row["correct"]
        per_system.setdefault(row["system"], []).append(value)
    summary = {}
    for system, values in sorted(per_system.items()):
        v = np.asarray(values, dtype=float)
        half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
        summary[system] = {"n": int(v.size), "mean": float(v.mean()), "ci95": float(half)}
    return summary


def plot_summary(summary: dict[str, dict[str, float]], *, ax=None, title: str = "Listening test"):
    """Bar chart of mean ratings with 95 % confidence intervals."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    names = list(summary)
    means = [summary[n]["mean"] for n in names]
    errors = [0.0 if np.isnan(summary[n]["ci95"]) else summary[n]["ci95"] for n in names]
    ax.bar(names, means, yerr=errors, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("rating (0-100) / % correct")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=20)
    return ax


def listening_test(trials: list[Trial], log: RatingLog, *, sr: int):
    """An ipywidgets listening test: one trial per page, players and sliders or buttons.

    MUSHRA trials show the labelled reference, then each system under a neutral label
    ("sample 1", "sample 2", ...) with a 0-100 slider; A/B/X trials show A, B and X with
    two buttons. "Next" records the page's judgements to ``log`` and moves on.
    """
    import ipywidgets as widgets

    from voicelab.ui.widgets import player as widgets_player

    if not trials:
        raise ParameterError("no trials to run")

    def player(y):
        # No per-clip normalisation: loudness differences are part of what is judged.
        # An HTML player (no Output capture), so the test also renders without a front-end.
        return widgets_player(np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0), sr=sr, normalize=False)

    state = {"page": 0}
    body = widgets.VBox()
    status = widgets.HTML()

    def show(page: int) -> None:
        trial = trials[page]
        status.value = f"<b>Trial {page + 1} of {len(trials)}</b> (item {trial.item})"
        rows = []
        if trial.answer is None:
            sliders = {}
            rows.append(widgets.HBox([widgets.Label("reference"), player(trial.reference)]))
            for k, system in enumerate(trial.systems, start=1):
                sliders[system] = widgets.IntSlider(value=50, min=0, max=100, description=f"sample {k}")
                rows.append(widgets.HBox([sliders[system], player(trial.clips[system])]))

            def record(_):
                for system, slider in sliders.items():
                    log.rate(trial, system, slider.value)
                advance()
        else:
            choice = widgets.ToggleButtons(options=[("X is A", trial.systems[0]), ("X is B", trial.systems[1])])
            for label in ("A", "B", "X"):
                rows.append(widgets.HBox([widgets.Label(label), player(trial.clips[label])]))
            rows.append(choice)

            def record(_):
                log.choose(trial, choice.value)
                advance()

        button = widgets.Button(description="Next" if page + 1 < len(trials) else "Finish", button_style="primary")
        button.on_click(record)
        body.children = [status, *rows, button]

    def advance() -> None:
        state["page"] += 1
        if state["page"] < len(trials):
            show(state["page"])
        else:
            body.children = [widgets.HTML(f"Done: ratings saved to <code>{log.path}</code>.")]

    show(0)
    return body
