"""Block diagrams of the kit's models, with the tensor shape on every arrow.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; every notebook that builds a model
draws it with :func:`block_diagram` from the shapes its own run measured, so a change
of the recipe redraws the diagram.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> ax = block_diagram([("tokens", "[B, T]"), ("embedding", "[B, T, 96]"), ("BiLSTM", "[B, T, 128]")],
...                    inputs={"BiLSTM": [("speaker id", "[B]")]}, title="a text encoder")
>>> [t.get_text() for t in ax.texts][:2]
['tokens', '[B, T]']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch

from voicelab.errors import ParameterError

Block = tuple[str, str]
"""``(name, shape of its output)``, e.g. ``("decoder", "[B, frames, 80]")``."""

_STEP = 1.0       # vertical distance between two blocks of the chain
_WIDTH, _HEIGHT = 3.2, 0.5


def _box(ax: Axes, x: float, y: float, name: str, *, colour: str) -> None:
    ax.add_patch(FancyBboxPatch((x - _WIDTH / 2, y - _HEIGHT / 2), _WIDTH, _HEIGHT,
                                boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=colour, edgecolor="#444"))


def block_diagram(blocks: Sequence[Block], *, inputs: Mapping[str, Sequence[Block]] | None = None,
                  title: str = "", ax: Axes | None = None) -> Axes:
    """Draw a model as a chain of blocks from top (input) to bottom (output).

    Parameters
    ----------
    blocks : sequence of ``(name, shape)``
        The chain, input first; each block's output shape is written on the arrow
        leaving it (the last one's under it).
    inputs : mapping block name -> sequence of ``(name, shape)``, optional
        Side inputs joining a block of the chain from the left (a speaker id, durations).
    title : str
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    blocks = list(blocks)
    inputs = dict(inputs or {})
    if not blocks:
        raise ParameterError("block_diagram needs at least one block")
    names = [name for name, _ in blocks]
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise ParameterError(f"inputs join blocks {unknown} that are not in the chain {names}")
    n = len(blocks)
    side = max((len(v) for v in inputs.values()), default=0)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5 + 2.0 * bool(side), 0.75 * n + 0.8), layout="constrained")
    x = 0.0
    for i, (name, shape) in enumerate(blocks):
        y = -i * _STEP
        first_or_last = i in (0, n - 1)
        _box(ax, x, y, name, colour="#e8eef7" if first_or_last else "#fdf3dc")
        ax.text(x, y, name, ha="center", va="center", fontsize=9)
        ax.text(x + _WIDTH / 2 + 0.15, y - (_STEP / 2 if i < n - 1 else 0), shape, ha="left", va="center",
                fontsize=8, family="monospace", color="#224")
        if i < n - 1:
            ax.annotate("", xy=(x, y - _STEP + _HEIGHT / 2), xytext=(x, y - _HEIGHT / 2),
                        arrowprops=dict(arrowstyle="->", color="#444"))
        for k, (extra, extra_shape) in enumerate(inputs.get(name, [])):
            sx, sy = x - _WIDTH - 0.6, y - 0.28 * (k - (len(inputs[name]) - 1) / 2)   # the first on top
            ax.text(sx, sy, f"{extra} {extra_shape}", ha="right", va="center", fontsize=8, color="#642")
            ax.annotate("", xy=(x - _WIDTH / 2, y), xytext=(sx + 0.05, sy), arrowprops=dict(arrowstyle="->",
                                                                                              color="#964"))
    left = -_WIDTH - 0.6 - 3.2 if side else -_WIDTH / 2 - 0.3
    ax.set_xlim(left, _WIDTH / 2 + 3.2)
    ax.set_ylim(-(n - 1) * _STEP - 0.6, 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
