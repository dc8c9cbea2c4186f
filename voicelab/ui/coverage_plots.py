"""Figures of a command dataset's coverage (:mod:`voicelab.evaluation.coverage`).

Each function takes a report or curve and returns the ``Figure``.

Introduced in ``notebooks/06_spoken_command_data.ipynb``.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from voicelab.data.commands import default_grammar, plan
>>> from voicelab.evaluation.coverage import coverage_report
>>> report = coverage_report([c for c, s in plan(default_grammar(), 200, seed=0) if s == "train"])
>>> fig = plot_intent_value_counts(report)
>>> fig.axes[0].get_ylabel()
'intent'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from voicelab.evaluation.coverage import CoverageCurve, CoverageReport


def plot_intent_value_counts(report: CoverageReport, *, title: str = "Sentences per intent and slot value") -> Figure:
    """Heat map: intents down, slot values across (grouped by slot), count in each cell.

    A blank cell is a pair the grammar does not allow; a dark cell an allowed pair never
    (or rarely) seen. Shared-pool values (people, rooms) have several filled rows.
    """
    intents = list(dict.fromkeys(i for i, _, _ in report.intent_value))
    columns = list(dict.fromkeys((s, v) for _, s, v in sorted(report.intent_value, key=lambda k: k[1])))
    # contact and artist share one pool: one column per value, labelled by its slots
    values = list(dict.fromkeys(v for _, v in columns))
    slots_of = {v: "/".join(dict.fromkeys(s for s, w in columns if w == v)) for v in values}
    counts = np.full((len(intents), len(values)), np.nan)
    for (intent, _, value), n in report.intent_value.items():
        i, j = intents.index(intent), values.index(value)
        counts[i, j] = n if np.isnan(counts[i, j]) else counts[i, j] + n
    fig, ax = plt.subplots(figsize=(max(6.0, 0.18 * len(values) + 2), 1.0 + 0.45 * len(intents)))
    image = ax.imshow(np.ma.masked_invalid(counts), aspect="auto", cmap="viridis", vmin=0)
    ax.set_xticks(np.arange(len(values)), [f"{v} ({slots_of[v]})" for v in values], rotation=90, fontsize=6)
    ax.set_yticks(np.arange(len(intents)), intents)
    ax.set(title=title, xlabel="slot value (slot)", ylabel="intent")
    fig.colorbar(image, ax=ax, fraction=0.03, label="sentences")
    fig.tight_layout()
    return fig


def plot_carrier_balance(report: CoverageReport) -> Figure:
    """Left: sentences per carrier phrase. Right: each (intent, slot)'s min/max value count
    ratio (1 = every value equally often), with the chi-square p-value against even use."""
    per_carrier: dict[str, int] = {}
    for (tid, _, _), n in report.carrier_value.items():
        per_carrier[tid] = per_carrier.get(tid, 0) + n
    carriers = sorted(per_carrier, key=lambda t: (t.split("/")[0], int(t.split("/")[1])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.5 + 0.22 * max(len(carriers), len(report.balance))))
    intents = list(dict.fromkeys(t.split("/")[0] for t in carriers))
    colors = [f"C{intents.index(t.split('/')[0]) % 10}" for t in carriers]
    left.barh(np.arange(len(carriers)), [per_carrier[t] for t in carriers], color=colors)
    left.set_yticks(np.arange(len(carriers)), carriers, fontsize=7)
    left.invert_yaxis()
    left.set(title="Slot fillings per carrier phrase", xlabel="slot values filled")
    names = list(report.balance)
    ratios = [report.balance[n]["ratio"] for n in names]
    right.barh(np.arange(len(names)), ratios, color="C0")
    for i, name in enumerate(names):
        right.text(min(ratios[i], 0.98), i, f" p={report.balance[name]['p']:.2f}", va="center",
                   ha="right" if ratios[i] > 0.7 else "left", fontsize=7, color="white" if ratios[i] > 0.7 else "black")
    right.set_yticks(np.arange(len(names)), names, fontsize=7)
    right.invert_yaxis()
    right.set(title="Balance of slot values (min/max count)", xlabel="min / max", xlim=(0, 1))
    fig.tight_layout()
    return fig


def plot_coverage_curve(curve: CoverageCurve) -> Figure:
    """Distinct diphones and covered (intent, value) pairs against the number of sentences."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(curve.sizes, curve.diphones, "o-", color="C0", label="distinct diphones")
    ax.set(xlabel="sentences", ylabel="distinct diphones", title="Coverage as the dataset grows")
    twin = ax.twinx()
    share = curve.pairs / max(curve.total_pairs, 1)
    twin.plot(curve.sizes, share, "s--", color="C1", label="(intent, value) pairs covered")
    twin.set(ylabel="share of (intent, value) pairs", ylim=(0, 1.05))
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right")
    fig.tight_layout()
    return fig
