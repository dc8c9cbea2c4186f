"""Batch reruns of a notebook over a grid of parameters (papermill), with one results table.

Introduced in ``notebooks/04_vqvae_conversion.ipynb``; works on every numbered notebook.

A notebook *records* its headline figures with :func:`record` (one call per figure or
several at once). The sweep runner executes the notebook once per combination of the
parameters it is given, each into its own executed notebook, reads the recorded figures
back from the outputs, and writes

- ``results.jsonl``: one line per finished run (``params``, ``status``, ``figures``,
  ``seconds``, ``notebook``, ``error``); it is what an interrupted sweep resumes from;
- ``results.csv`` and ``results.md``: the table, one row per run, with a link to each
  executed notebook; a failed run is a row with its error, and the others go on;
- ``results.png``: each recorded figure against the first swept parameter.

Command line::

    python -m voicelab sweep notebooks/04_vqvae_conversion.ipynb --profile quick \\
        -p CODEBOOK_SIZE 64 256 512 -p INPUT_SCALE '"magnitude"' '"db"' --out outputs/sweep-04

Values are Python literals (``64``, ``1e-3``, ``True``, ``"db"``); a bare word is a string.

Example
-------
>>> grid({"A": [1, 2], "B": ["x"]})
[{'A': 1, 'B': 'x'}, {'A': 2, 'B': 'x'}]
>>> run_name({"A": 1, "B": "x"})
'A=1_B=x'
"""

from __future__ import annotations

import ast
import csv
import itertools
import json
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from voicelab.errors import ParameterError

FIGURES_MIME = "application/vnd.voicelab.figures+json"
"""The output type :func:`record` writes and :func:`read_figures` reads."""


def record(**figures) -> None:
    """Record headline figures of a notebook run (``record(wer_ratio=1.4, mcd=7.9)``).

    Stores them, machine-readable and out of sight, in the cell's output, where
    :func:`read_figures` (and so the sweep runner) finds them; the notebook shows its
    figures in its own tables. Values must be numbers, strings or booleans.
    """
    from IPython.display import display

    bad = {k: type(v).__name__ for k, v in figures.items() if not isinstance(v, (int, float, str, bool))}
    if bad:
        raise ParameterError(f"record() takes numbers, strings or booleans, got {bad}")
    figures = {k: float(v) if hasattr(v, "__float__") and not isinstance(v, (bool, str)) else v
               for k, v in figures.items()}
    # JSON has no NaN or infinity: such a figure (a smoke run's empty column) is stored as null
    figures = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in figures.items()}
    display({FIGURES_MIME: figures, "text/plain": ""}, raw=True)


def read_figures(notebook: str | os.PathLike) -> dict:
    """Every figure :func:`record` wrote in an executed notebook (later calls win)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    figures = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            figures.update(output.get("data", {}).get(FIGURES_MIME, {}))
    return figures


def parse_value(text: str):
    """A command-line value as a Python literal; a bare word stays a string.

    >>> parse_value("64"), parse_value("1e-3"), parse_value("True"), parse_value("db"), parse_value('"db"')
    (64, 0.001, True, 'db', 'db')
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def grid(params: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of ``params`` (name -> values), the last name varying fastest."""
    if not params:
        return [{}]
    empty = [k for k, v in params.items() if not len(v)]
    if empty:
        raise ParameterError(f"parameters {empty} have no values")
    names = list(params)
    return [dict(zip(names, values)) for values in itertools.product(*(params[n] for n in names))]


def run_name(params: Mapping) -> str:
    """A file-safe name for one combination: ``A=1_B=x``."""
    if not params:
        return "default"
    return "_".join(f"{k}={re.sub(r'[^A-Za-z0-9.+-]', '-', str(v))}" for k, v in params.items())


def declared_parameters(notebook: str | os.PathLike) -> set[str]:
    """The names assigned in the notebook's ``parameters``-tagged cell."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ParameterError(f"{notebook}: needs exactly one cell tagged 'parameters', found {len(tagged)}")
    tree = ast.parse("".join(tagged[0]["source"]))
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
            if isinstance(t, ast.Name)}


def sweep(
    notebook: str | os.PathLike,
    params: Mapping[str, Sequence],
    *,
    out: str | os.PathLike,
    profile: str = "quick",
    data_dir: str | os.PathLike = "data",
    fixed: Mapping | None = None,
    kernel_name: str = "python3",
    progress: bool = True,
    plot: Sequence[str] | None = None,
) -> list[dict]:
    """Run ``notebook`` once per combination of ``params`` into ``out``; return the results rows.

    ``fixed`` parameters go to every run (``PROFILE`` and ``DATA_DIR`` always do, the
    latter as an absolute path). Runs already finished in ``out/results.jsonl`` (ok or
    failed) are not run again: call it again after an interruption and it goes on
    where it stopped. A run that raises is recorded as ``failed`` with its error, and
    the sweep continues. ``plot`` names the recorded figures drawn in ``results.png``
    (default: every numeric one).
    """
    import papermill

    notebook = Path(notebook).resolve()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    declared = declared_parameters(notebook)
    unknown = sorted((set(params) | set(fixed or {})) - declared)
    if unknown:
        raise ParameterError(f"{notebook.name} has no parameters {unknown} (its parameters cell sets "
                             f"{sorted(declared)})")
    log = out / "results.jsonl"
    done = {json.dumps(r["params"], sort_keys=True): r for r in _read_jsonl(log)}
    combos = grid(params)
    rows = []
    for i, combo in enumerate(combos, start=1):
        key = json.dumps(combo, sort_keys=True)
        if key in done:
            rows.append(done[key])
            continue
        name = run_name(combo)
        executed = out / f"{notebook.stem}__{name}.ipynb"
        parameters = {"PROFILE": profile, "DATA_DIR": str(Path(data_dir).resolve()), **(fixed or {}), **combo}
        if "LISTENING_WIDGET" in declared:
            parameters.setdefault("LISTENING_WIDGET", False)
        if progress:
            print(f"[{i}/{len(combos)}] {notebook.name} {name}", flush=True)
        started, error = time.perf_counter(), None
        try:
            papermill.execute_notebook(str(notebook), str(executed), parameters=parameters,
                                       cwd=str(notebook.parent), kernel_name=kernel_name, progress_bar=False)
        except Exception as exc:  # a failed run is a row of the table; the sweep goes on
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        row = {"params": combo, "status": "failed" if error else "ok", "error": error,
               "seconds": round(time.perf_counter() - started, 1),
               "figures": read_figures(executed) if executed.is_file() else {},
               "notebook": executed.name}
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        rows.append(row)
        if progress:
            print(f"    {row['status']} in {row['seconds']:.0f} s: {error or row['figures']}", flush=True)
    write_tables(rows, out, plot=plot)
    return rows


def table(rows: Sequence[Mapping]) -> list[dict]:
    """Flat table rows: the parameters, status, seconds, every recorded figure, the notebook."""
    figure_names = sorted({k for r in rows for k in r["figures"]})
    return [{**r["params"], "status": r["status"], "seconds": r["seconds"],
             **{k: r["figures"].get(k, "") for k in figure_names},
             "notebook": r["notebook"], "error": r["error"] or ""} for r in rows]


def write_tables(rows: Sequence[Mapping], out: str | os.PathLike, *, plot: Sequence[str] | None = None) -> None:
    """``results.csv``, ``results.md`` and ``results.png`` (the figures named in ``plot``, default all) in ``out``."""
    out = Path(out)
    flat = table(rows)
    if not flat:
        return
    columns = list(dict.fromkeys(k for r in flat for k in r))
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)

    def cell(key, value):
        if key == "notebook":
            return f"[{value}]({value})"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(k, r.get(k, "")) for k in columns) + " |" for r in flat]
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _plot(rows, out / "results.png", plot)


def _plot(rows: Sequence[Mapping], path: Path, names: Sequence[str] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok"]
    figures = sorted({k for r in ok for k, v in r["figures"].items() if isinstance(v, (int, float))
                      and not isinstance(v, bool)})
    if names is not None:
        unknown = sorted(set(names) - set(figures))
        if unknown:
            raise ParameterError(f"no recorded figures {unknown} to plot; the runs recorded {figures}")
        figures = list(names)
    if not ok or not figures or not ok[0]["params"]:
        return
    first, *others = list(ok[0]["params"])
    n_cols = min(4, len(figures))
    n_rows = -(-len(figures) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 3.2 * n_rows), layout="constrained", squeeze=False)
    for ax in axes.flat[len(figures):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, figures):
        series: dict[str, list] = {}
        for r in ok:
            label = ", ".join(f"{k}={r['params'][k]}" for k in others) or name
            series.setdefault(label, []).append((str(r["params"][first]), r["figures"].get(name)))
        for label, points in series.items():
            points = [(x, y) for x, y in points if isinstance(y, (int, float))]
            ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
        ax.set(title=name, xlabel=first)
        ax.grid(True, alpha=0.3)
    if others:
        axes.flat[0].legend(fontsize=7)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
