"""The papermill sweep runner: a 2x1 grid of a tiny notebook, one run failing, then resumed."""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from voicelab.errors import ParameterError
from voicelab.sweep import declared_parameters, grid, parse_value, read_figures, sweep, write_tables


def tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "quick"\nDATA_DIR = "data"\nA = 1\nB = "x"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        params,
        nbformat.v4.new_code_cell("if A == 2:\n    raise ValueError(f'A={A} is refused')\n"
                                  "from voicelab.sweep import record\nrecord(score=A * 10.0, label=B)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_grid_and_values():
    assert grid({"A": [1, 2], "B": ["x", "y"]})[1] == {"A": 1, "B": "y"} and len(grid({"A": [1], "B": [2, 3]})) == 2
    assert parse_value("[1, 2]") == [1, 2] and parse_value("magnitude") == "magnitude"
    with pytest.raises(ParameterError, match=r"\['B'\] have no values"):
        grid({"A": [1], "B": []})


@pytest.mark.notebook
def test_sweep_runs_each_cell_records_failures_and_resumes(tmp_path):
    notebook = tiny_notebook(tmp_path / "tiny.ipynb")
    assert declared_parameters(notebook) == {"PROFILE", "DATA_DIR", "A", "B"}
    with pytest.raises(ParameterError, match=r"no parameters \['C'\]"):
        sweep(notebook, {"C": [1]}, out=tmp_path / "out", progress=False)

    rows = sweep(notebook, {"A": [1, 2], "B": ["y"]}, out=tmp_path / "out", profile="smoke", progress=False)
    ok, failed = rows
    assert ok["status"] == "ok" and ok["figures"] == {"score": 10.0, "label": "y"}
    assert failed["status"] == "failed" and "A=2 is refused" in failed["error"]
    assert read_figures(tmp_path / "out" / ok["notebook"]) == {"score": 10.0, "label": "y"}
    with open(tmp_path / "out" / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(r["A"], r["status"], r["score"]) for r in table] == [("1", "ok", "10.0"), ("2", "failed", "")]
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert f"[{ok['notebook']}]({ok['notebook']})" in markdown and "failed" in markdown
    assert (tmp_path / "out" / "results.png").is_file()

    # a rerun (after an interruption) runs nothing already finished, and only the new cell of a larger grid
    executed = tmp_path / "out" / ok["notebook"]
    stamp = executed.stat().st_mtime_ns
    again = sweep(notebook, {"A": [1, 2, 3], "B": ["y"]}, out=tmp_path / "out", progress=False)
    assert executed.stat().st_mtime_ns == stamp
    assert [r["status"] for r in again] == ["ok", "failed", "ok"] and again[2]["figures"]["score"] == 30.0
    lines = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert [json.loads(x)["params"]["A"] for x in lines] == [1, 2, 3]
    write_tables(again, tmp_path / "out", plot=["score"])         # the figures to draw can be chosen
    with pytest.raises(ParameterError, match=r"no recorded figures \['loss'\]"):
        write_tables(again, tmp_path / "out", plot=["loss"])
