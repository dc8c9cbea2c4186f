"""Every numbered notebook: committed clean, and executed end to end in ``smoke``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no numbered notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    dirty = [
        i
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_skeleton(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"].get("kernelspec", {}).get("name"), f"{path.name}: no kernelspec (papermill needs one)"
    cells = notebook["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# "), (
        f"{path.name}: the first cell must be the title"
    )
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    first_line = next(line for line in tagged[0]["source"] if line.strip() and not line.startswith("#"))
    assert first_line.startswith("PROFILE = "), f"{path.name}: the parameters cell must start with PROFILE"
    headings = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").lower()
    for section in ("introduction", "setup", "conclusion", "exercises"):
        assert section in headings, f"{path.name}: no '{section}' section"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_smoke_profile(path, smoke_corpus, data_dir, tmp_path):
    papermill = pytest.importorskip("papermill")
    # papermill raises PapermillExecutionError, naming the cell, on any cell error.
    papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters={"PROFILE": "smoke", "DATA_DIR": str(data_dir)},
        cwd=str(path.parent),
        progress_bar=False,
        kernel_name="python3",
    )
    executed = json.loads((tmp_path / path.name).read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_headless_runs_turn_off_only_declared_listening_widgets():
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "scripts" / "run_notebooks.py"
    spec = importlib.util.spec_from_file_location("run_notebooks", script)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    for path in NOTEBOOKS:
        params = runner.parameters_for(path, "quick", "data")
        declares = "LISTENING_WIDGET" in "".join(
            "".join(c["source"]) for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", []))
        assert params["PROFILE"] == "quick" and params["DATA_DIR"] == "data"
        assert ("LISTENING_WIDGET" in params) == declares and params.get("LISTENING_WIDGET") in (None, False)
    assert any("LISTENING_WIDGET" in runner.parameters_for(p, "quick", "data") for p in NOTEBOOKS)
