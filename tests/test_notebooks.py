"""Every numbered notebook: committed clean, and executed end to end in ``smoke``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from voicelab import registry

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
STEPS = registry.run_order()
"""Every notebook, and the artifacts trained alone before them, in the registry's order (a fresh ``make run``)."""


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _trains(path: Path) -> bool:
    """True for a notebook that trains a model (it calls a recipe's ``train_or_load``)."""
    return any("train_or_load" in "".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")


def _headings(path: Path) -> list[str]:
    """The notebook's ``##`` section headings, lower-case, without their numbers."""
    return [re.sub(r"^##\s+(\d+\.\s*)?", "", line).lower()
            for c in _cells(path) if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines() if re.match(r"^##\s", line)]


SKELETON = (("introduction",), ("setup",), ("data",), ("model",), ("training",), ("evaluation", "listening"),
            ("conclusion and exercises",))
"""The sections every notebook has, in this order (alternatives in a tuple); notebooks
that train nothing skip Model and Training."""


def skeleton_problems(headings: list[str], *, trains: bool) -> list[str]:
    """What is missing or out of order in ``headings`` against :data:`SKELETON`."""
    problems, at = [], -1
    for names in SKELETON:
        if not trains and names in (("model",), ("training",)):
            continue
        found = next((i for i, h in enumerate(headings)
                      if i > at and any(re.search(rf"\b{n}\b", h) for n in names)), None)
        if found is None:
            problems.append(f"no '{' or '.join(names)}' section after {headings[at] if at >= 0 else 'the title'!r}")
        else:
            at = found
    return problems


def test_skeleton_check_finds_missing_and_misplaced_sections():
    good = ["introduction", "setup", "data", "the model", "training", "listening", "conclusion and exercises"]
    assert skeleton_problems(good, trains=True) == []
    swapped = ["introduction", "setup", "data", "training", "the model", "evaluation", "conclusion and exercises"]
    assert skeleton_problems(swapped, trains=True) == ["no 'training' section after 'the model'"]
    assert skeleton_problems(["introduction", "setup", "data", "listening", "conclusion and exercises"],
                             trains=False) == []
    assert skeleton_problems(["setup", "introduction"], trains=False)[0] == "no 'setup' section after 'introduction'"


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
    assert not skeleton_problems(_headings(path), trains=_trains(path)), (
        f"{path.name}: {skeleton_problems(_headings(path), trains=_trains(path))}")


def _step_param(step):
    if step.kind == "train":
        return pytest.param(step, marks=[pytest.mark.backend], id=step.name.replace(" ", "_"))
    path = FOLDER / registry.notebook(step.target).filename
    return pytest.param(step, marks=[pytest.mark.backend] if _trains(path) else [], id=path.name)


@pytest.mark.notebook
@pytest.mark.xdist_group("notebooks")   # one worker runs the steps in the registry's order: 03 uses what 02 trained
@pytest.mark.parametrize("step", [_step_param(s) for s in STEPS])
def test_notebook_runs_in_smoke_profile(step, smoke_corpus, emotional_corpus, data_dir, tmp_path, capsys):
    """Every step of a fresh ``make run PROFILE=smoke``: each notebook under TensorFlow, those that train
    a model (and the artifacts trained alone) under PyTorch too (``-m backend``).

    The kernel inherits ``KERAS_BACKEND`` from the test process.
    """
    import papermill

    from voicelab import artifacts

    if step.kind == "train":          # as run_notebooks.py does it, into the folder its notebook loads
        run = artifacts.train(step.target, "smoke", data_dir=data_dir, verbose=0)
        assert run.folder == artifacts.folder(step.target, "smoke", data_dir=data_dir)
        assert artifacts.is_ready(step.target, "smoke", data_dir=data_dir)
        if step.target == "vocoder":
            artifacts.load_vocoder("smoke", data_dir=data_dir)
            assert "vocoder: iSTFT vocoder from" in capsys.readouterr().out
        return
    path = FOLDER / registry.notebook(step.target).filename

    # papermill raises PapermillExecutionError, naming the cell, on any cell error; a cell
    # still running after ten minutes (no smoke cell takes one) fails instead of stalling CI.
    papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters={"PROFILE": "smoke", "DATA_DIR": str(data_dir)},
        cwd=str(path.parent),
        progress_bar=False,
        kernel_name="python3",
        execution_timeout=600,
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
