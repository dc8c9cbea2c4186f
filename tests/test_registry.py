"""The notebook registry: it matches the notebooks on disk and the README, and orders a run by what each needs."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from voicelab import registry
from voicelab.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


def test_every_notebook_on_disk_has_one_entry_and_the_reverse():
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert on_disk == [n.filename for n in registry.NOTEBOOKS]
    assert [n.number for n in registry.NOTEBOOKS] == sorted({n.number for n in registry.NOTEBOOKS})


def test_each_recipe_module_follows_the_contract_and_names_its_notebook():
    from voicelab.recipes.base import Recipe

    for entry in registry.NOTEBOOKS:
        if entry.recipe is None:
            continue
        module = importlib.import_module(entry.recipe)
        r = module.recipe("quick")
        assert isinstance(r, Recipe) and type(r).NOTEBOOK == entry.number
        with pytest.raises(ParameterError, match="has no field 'no_such_field'"):
            module.recipe("quick", no_such_field=1)
        names = [r.run_name(model) for model in type(r).MODELS]
        assert len(set(names)) == len(names), names           # one run folder per model
        for model in type(r).MODELS:
            fields = r.defining_fields(model)
            assert {"profile", "seed", "audio"} <= set(fields)
            assert not set(fields) & set(type(r).NOT_DEFINING)
            assert r.with_changes(seed=4).run_name(model).endswith("-seed4")
        with pytest.raises(ParameterError, match="model='nothing'"):
            r.run_name("nothing")


def test_every_need_is_an_artifact_taught_by_an_earlier_or_trainable_notebook():
    for entry in registry.NOTEBOOKS:
        for name in entry.needs:
            made_by = registry.artifact(name)
            assert made_by.notebook != entry.number
            assert made_by.notebook < entry.number or made_by.trainable_alone, (entry.number, name)


def test_run_order_makes_what_each_notebook_needs_first():
    assert [s.name for s in registry.run_order()] == [
        "01_audio_features", "train vocoder", "02_tts_cnn_bilstm", "03_melgan_vocoder",
        "04_vqvae_voice_conversion", "05_emotional_voice_cloning", "06_spoken_command_data"]
    # notebook 06 alone needs notebook 02's TTS, and through it the kit's vocoder
    assert [s.name for s in registry.run_order(["06"])] == [
        "train vocoder", "02_tts_cnn_bilstm", "06_spoken_command_data"]
    # one notebook: what it needs and is not trained yet comes first, nothing else
    assert [s.name for s in registry.run_order(["03"])] == ["train vocoder", "02_tts_cnn_bilstm", "03_melgan_vocoder"]
    everything = lambda name: True  # noqa: E731
    assert [s.name for s in registry.run_order([3], ready=everything)] == ["03_melgan_vocoder"]
    assert [s.name for s in registry.run_order(["05", "04"], ready=lambda n: n == "vocoder")] == [
        "train aligner", "04_vqvae_voice_conversion", "05_emotional_voice_cloning"]
    with pytest.raises(ParameterError, match="no notebook '42'"):
        registry.run_order(["42"])


def test_the_readme_table_is_the_registrys():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- notebooks: generated from voicelab/registry.py -->", "<!-- /notebooks -->"
    assert start in readme and end in readme, "README.md lost its generated notebooks table"
    table = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == registry.markdown_table(), (
        "README.md's notebook table differs from voicelab/registry.py: paste "
        "python -c 'from voicelab.registry import markdown_table; print(markdown_table())'")


def test_the_runner_resolves_only_through_the_registry(tmp_path):
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    steps = runner.steps_for(["04"], "smoke", str(tmp_path))     # nothing trained in an empty DATA_DIR
    assert [s.name for s in steps] == ["train vocoder", "train aligner", "04_vqvae_voice_conversion"]
    assert runner.main(["--profile", "smoke", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out"),
                        "--only", "9"]) == 2
