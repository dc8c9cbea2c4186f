"""Execute the numbered notebooks with papermill into a dated output folder, in the registry's order.

    python scripts/run_notebooks.py --profile quick --data-dir data --out outputs/2026-11-22_0930
    python scripts/run_notebooks.py --profile quick --only 03      # notebook 03 and whatever it needs

The notebooks, their order and what each needs come from ``voicelab/registry.py``:
``--only 03`` (``make run ONLY=03``) first makes what notebook 03 needs and is not trained
yet, training an artifact alone where it can be (``python -m voicelab train vocoder``)
and running the notebook that trains it otherwise.

Each notebook runs with ``PROFILE`` and ``DATA_DIR`` injected into its ``parameters``
cell (and ``LISTENING_WIDGET=False`` where it has one: a listening test needs a person); the executed copies, an HTML rendering of each, and ``index.md`` (status, run
time, links) land in ``--out``. The exit status is non-zero if any notebook failed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import traceback
from pathlib import Path

import papermill as pm

from voicelab import artifacts, registry
from voicelab.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def steps_for(only: list[str] | None, profile: str, data_dir: str) -> list[registry.Step]:
    """The registry's steps for the notebooks ``only`` (default: all), skipping artifacts already trained."""
    return registry.run_order(only, ready=lambda name: artifacts.is_ready(name, profile, data_dir=data_dir))


HEADLESS = {"LISTENING_WIDGET": False}
"""Parameters for a run without a browser, passed to the notebooks that declare them."""


def parameters_for(notebook: Path, profile: str, data_dir: str) -> dict:
    """``PROFILE``, ``DATA_DIR`` and whichever :data:`HEADLESS` parameters ``notebook`` declares."""
    declared = pm.inspect_notebook(str(notebook))
    return {"PROFILE": profile, "DATA_DIR": data_dir, **{k: v for k, v in HEADLESS.items() if k in declared}}


def to_html(notebook: Path) -> Path | None:
    """Render an executed notebook to HTML next to it (skipped if nbconvert is missing)."""
    try:
        import nbconvert
        import nbformat
    except ImportError:
        return None
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=["smoke", "quick", "full"])
    parser.add_argument("--data-dir", default="data", help="corpus and trained-model folder")
    parser.add_argument("--out", default=f"outputs/{datetime.datetime.now():%Y-%m-%d_%H%M}")
    parser.add_argument("--only", nargs="*", default=None, metavar="NN",
                        help="notebook numbers to run, with what they need (default: every notebook)")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_dir = str(Path(args.data_dir).resolve())
    only = [n for item in args.only for n in item.replace(",", " ").split()] if args.only else None
    try:
        steps = steps_for(only, args.profile, data_dir)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("steps: " + ", ".join(step.name for step in steps), flush=True)
    rows = []
    for step in steps:
        print(f"[{args.profile}] {step.name} ...", flush=True)
        start = time.perf_counter()
        target = html = None
        try:
            if step.kind == "train":
                artifacts.train(step.target, args.profile, data_dir=data_dir)
            else:
                notebook = NOTEBOOKS / registry.notebook(step.target).filename
                target = out / notebook.name
                pm.execute_notebook(
                    notebook,
                    target,
                    parameters=parameters_for(notebook, args.profile, data_dir),
                    cwd=str(NOTEBOOKS),
                    progress_bar=False,
                    kernel_name="python3",
                )
            status = "ok"
        except Exception as err:  # the failure is recorded in the index and the exit code
            status = f"FAILED: {type(err).__name__}"
            traceback.print_exc()
        seconds = time.perf_counter() - start
        html = to_html(target) if target is not None and target.exists() else None
        rows.append((target.name if target is not None else step.name, status, seconds, html.name if html else ""))
        print(f"    {status} in {seconds:.0f} s", flush=True)
        if status != "ok":
            break        # what comes next needs what this step makes

    lines = [
        f"# voicelab notebooks, profile `{args.profile}`",
        "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M}, data in `{data_dir}`,"
        f" Python {sys.version.split()[0]}, KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow')}.",
        "",
        "| step | status | run time | HTML |",
        "|---|---|---|---|",
    ]
    for name, status, seconds, html in rows:
        link = f"[{html}]({html})" if html else ""
        shown = f"[{name}]({name})" if name.endswith(".ipynb") else name
        lines.append(f"| {shown} | {status} | {seconds:.0f} s | {link} |")
    (out / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"index: {out / 'index.md'}")
    return 0 if all(status == "ok" for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
