"""The package's layers (README, "The package"): a module never imports a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "voicelab"
LAYERS = {
    "errors": 1, "profiles": 1, "registry": 1,
    "dsp": 2, "text": 2,
    "data": 3,
    "train": 4,
    "models": 5,
    "vocoders": 6, "synthesis": 6, "streaming": 6,
    "evaluation": 7,
    "ui": 8,
    "recipes": 9, "sweep": 9, "__main__": 9, "artifacts": 9,
}
"""Layer of each top-level module or subpackage of voicelab, bottom (1) to top (9)."""


def layer(dotted: str) -> int | None:
    """The layer of ``voicelab.<name>...``; ``None`` for the package itself.

    Names the package root re-exports (``voicelab.ParameterError``, ``__version__``)
    are layer 1, with ``voicelab.errors``.
    """
    parts = dotted.split(".")
    return LAYERS.get(parts[1], 1) if len(parts) > 1 else None


def imports_of(path: Path) -> list[str]:
    """Every voicelab module ``path`` imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("voicelab"):
            found += [node.module] if node.module != "voicelab" else [f"voicelab.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("voicelab")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    names = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES} - {"__init__"}
    assert names <= set(LAYERS), f"modules without a layer: {sorted(names - set(LAYERS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    rel = path.relative_to(PACKAGE)
    own = "voicelab." + rel.parts[0].removesuffix(".py") if rel.parts[0] != "__init__.py" else "voicelab"
    mine = layer(own) or 1
    upward = [m for m in imports_of(path) if (layer(m) or 0) > mine]
    assert not upward, f"{rel} (layer {mine}) imports {upward}"


def test_the_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from voicelab.ui import plots\n")
    assert imports_of(bad) == ["voicelab.ui"] and layer("voicelab.ui.plots") > layer("voicelab.dsp")
