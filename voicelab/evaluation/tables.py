"""Tables of results: per-group means and one plain-text printer for every notebook.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; notebook 03's vocoder comparison,
the benchmarks and the sweep results use the same two functions.

Example
-------
>>> rows = [{"system": "a", "pesq_wb": 2.0}, {"system": "a", "pesq_wb": 3.0}]
>>> table = mean_by(rows, by=("system",), metrics=("pesq_wb",))
>>> table
[{'system': 'a', 'n': 2, 'pesq_wb': 2.5}]
>>> print(format_table(table))
system  n  pesq_wb
     a  2    2.500
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def mean_by(rows: Sequence[Mapping], *, by: Sequence[str], metrics: Sequence[str]) -> list[dict]:
    """Mean of each of ``metrics`` per group of ``by`` keys, in first-seen order, with ``n``.

    NaN values (a metric that could not be computed for a row) are left out of a mean.
    """
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(row)
    table = []
    for key, members in groups.items():
        means = {}
        for m in metrics:
            values = np.asarray([r[m] for r in members], dtype=float)
            means[m] = round(float(np.nanmean(values)), 4) if np.isfinite(values).any() else float("nan")
        table.append({**dict(zip(by, key)), "n": len(members), **means})
    return table


def format_table(table: Sequence[Mapping], *, title: str = "", digits: int = 3) -> str:
    """A plain-text table, one line per row, columns right-aligned; floats with ``digits`` decimals."""
    if not table:
        return f"{title}\n(empty table)" if title else "(empty table)"
    cols = list(table[0])
    cells = [[f"{r[c]:.{digits}f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in table]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [title] if title else []
    lines.append("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
