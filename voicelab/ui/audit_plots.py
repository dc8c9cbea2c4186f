"""Figures of the augmentation audit: declared vs drawn, and what it tells of the labels.

Introduced in ``notebooks/06_spoken_commands.ipynb``.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from voicelab.data.augment import AugmentationSpec, sample_augmentation
>>> spec = AugmentationSpec()
>>> records = [{"intent": "call", **sample_augmentation(f"c{i}", seed=0, spec=spec)} for i in range(200)]
>>> fig = plot_declared_vs_drawn(records, spec)
>>> [ax.get_xlabel() for ax in fig.axes]
['SNR (dB)', 'rt60 (s)']
>>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import scipy.stats
from matplotlib.figure import Figure

from voicelab.data.augment import AugmentationSpec
from voicelab.evaluation.audit import AuditReport
from voicelab.errors import ParameterError

__all__ = ["plot_association", "plot_declared_vs_drawn"]

_AXES = {"snr_db": "SNR (dB)", "rt60": "rt60 (s)", "gain_db": "gain (dB)", "band_low": "high-pass cut-off (Hz)",
         "band_high": "low-pass cut-off (Hz)"}


def plot_declared_vs_drawn(records: Sequence[Mapping[str, Any]], spec: AugmentationSpec, *,
                           params: Sequence[str] = ("snr_db", "rt60"), bins: int = 20) -> Figure:
    """Histograms of the drawn values against the declared uniform density.

    One panel per parameter: the density histogram of the clips where it was applied,
    the declared density as a line, and the Kolmogorov-Smirnov p-value in the title (a
    small p means the drawn values do not follow the declaration).

    Parameters
    ----------
    records : sequence of dict
        Clips' augmentation parameters (and labels), as given to
        :func:`voicelab.evaluation.audit.audit`.
    spec : AugmentationSpec
        The declared distributions.
    params : sequence of str
        Which uniform parameters to draw (any of ``snr_db``, ``rt60``, ``gain_db``,
        ``band_low``, ``band_high``).
    bins : int
        Histogram bins.

    Returns
    -------
    Figure
    """
    unknown = [p for p in params if p not in _AXES]
    if unknown or not params:
        raise ParameterError(f"params={list(params)} must be a non-empty subset of {list(_AXES)}")
    fig, axes = plt.subplots(1, len(params), figsize=(4.5 * len(params), 3.2), squeeze=False)
    for ax, name in zip(axes[0], params):
        low, high = getattr(spec, name)
        drawn = np.array([r[name] for r in records if r.get(name) is not None], dtype=float)
        pad = 0.1 * (high - low) if high > low else 1.0
        if drawn.size:
            ax.hist(drawn, bins=bins, range=(min(low, drawn.min()), max(high, drawn.max())), density=True,
                    color="tab:blue", alpha=0.6, label=f"drawn (n = {drawn.size})")
        if high > low:
            density = 1.0 / (high - low)
            ax.plot([low - pad, low, low, high, high, high + pad], [0, 0, density, density, 0, 0], color="black",
                    label="declared")
        title = name
        if drawn.size >= 2 and high > low:
            p = scipy.stats.kstest(drawn, "uniform", args=(low, high - low)).pvalue
            title = f"{name}: KS p = {p:.3g}"
        ax.set_title(title)
        ax.set_xlabel(_AXES[name])
        ax.set_ylabel("density")
        ax.set_ylim(0, 1.4 * ax.get_ylim()[1])
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def plot_association(report: AuditReport, *, ax=None) -> Figure:
    """Heat map of the bias-corrected Cramér's V, parameters x labels, the bound marked.

    Values above the audit's bound are printed in bold, the pairs that failed (above the
    bound and significant, :meth:`AuditReport.v_failed`) are outlined in red; the colour
    bar has a red line at the bound.

    Parameters
    ----------
    report : AuditReport
        What :func:`voicelab.evaluation.audit.audit` returned.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when ``None``).

    Returns
    -------
    Figure
    """
    v, rows, cols = report.v_matrix()
    failed = report.v_failed()
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * max(len(cols), 3) + 2.5, 0.45 * max(len(rows), 3) + 1.5))
    fig = ax.figure
    top = max(float(v.max()) if v.size else 0.0, 2 * report.bound)
    image = ax.imshow(v, cmap="viridis", vmin=0.0, vmax=top, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(len(rows)):
        for j in range(len(cols)):
            over = v[i, j] > report.bound
            ax.text(j, i, f"{v[i, j]:.2f}", ha="center", va="center", fontsize="small",
                    fontweight="bold" if over else "normal", color="white" if v[i, j] < 0.6 * top else "black")
            if failed[i, j]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    bar = fig.colorbar(image, ax=ax, label="Cramér's V (bias-corrected)")
    bar.ax.axhline(report.bound, color="red", linewidth=2)
    ax.set_title(f"augmentation vs labels (bound {report.bound}): {'passed' if report.passed else 'FAILED'}")
    fig.tight_layout()
    return fig
