"""Execute every numbered notebook with papermill into a dated output folder.

    python scripts/run_notebooks.py --profile quick --data-dir data --out outputs/2026-11-22_0930

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

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def numbered_notebooks(pattern: str = "[0-9][0-9]_*.ipynb") -> list[Path]:
    return sorted(NOTEBOOKS.glob(pattern))


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
    parser.add_argument("--only", default="[0-9][0-9]_*.ipynb", help="glob of notebooks to run")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_dir = str(Path(args.data_dir).resolve())
    rows = []
    for notebook in numbered_notebooks(args.only):
        target = out / notebook.name
        print(f"[{args.profile}] {notebook.name} ...", flush=True)
        start = time.perf_counter()
        try:
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
        html = to_html(target) if target.exists() else None
        rows.append((notebook.name, status, seconds, html.name if html else ""))
        print(f"    {status} in {seconds:.0f} s", flush=True)

    lines = [
        f"# voicelab notebooks, profile `{args.profile}`",
        "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M}, data in `{data_dir}`,"
        f" Python {sys.version.split()[0]}, KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow')}.",
        "",
        "| notebook | status | run time | HTML |",
        "|---|---|---|---|",
    ]
    for name, status, seconds, html in rows:
        link = f"[{html}]({html})" if html else ""
        lines.append(f"| [{name}]({name}) | {status} | {seconds:.0f} s | {link} |")
    (out / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"index: {out / 'index.md'}")
    return 0 if all(status == "ok" for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
