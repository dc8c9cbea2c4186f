"""The dataset card of a spoken-command dataset: how it was made, its coverage, its audit.

Introduced in ``notebooks/06_spoken_command_data.ipynb``. After Gebru et al.,
"Datasheets for Datasets" (2021): motivation, composition, collection process, uses and
limits, on one page, with the coverage report (:mod:`voicelab.evaluation.coverage`) and
the audit of the augmentation's randomness (:mod:`voicelab.evaluation.audit`) computed from
the dataset's own manifest. :func:`voicelab.recipes.command_data.build_dataset` writes it as
``card.md`` with its figures in ``figures/``.
"""

from __future__ import annotations

import collections
import importlib.metadata
from pathlib import Path

from voicelab.data.command_voices import VoicePool
from voicelab.data.commands import Command, CommandGrammar, min_size_for
from voicelab.data.manifest import Manifest, Utterance
from voicelab.data.speakers import engine_version
from voicelab.evaluation.audit import clip_labels


def command_of(utt: Utterance) -> Command:
    """The :class:`~voicelab.data.commands.Command` a manifest row records."""
    return Command.from_meta(utt.text, utt.meta)


def audit_records(manifest: Manifest, *, splits=None) -> list[dict]:
    """One row per clip for :func:`voicelab.evaluation.audit.audit`: its labels and its augmentation.

    ``splits``: the clips drawn from one declared spec (default every split but
    ``test_noise``, whose noise and rooms are the held-out ones).
    """
    rows = []
    for utt in manifest:
        if (splits is None and utt.split == "test_noise") or (splits is not None and utt.split not in splits):
            continue
        rows.append({**clip_labels(intent=utt.meta["intent"], slots=utt.meta["slots"], voice=utt.speaker,
                                   engine=utt.meta["engine"], emotion=utt.emotion),
                     **flatten(utt.meta["augmentation"])})
    return rows


def flatten(params: dict) -> dict:
    """An augmentation's parameters as the audit reads them (a clip drawn clean: noise ``"none"``, no room)."""
    return {"noise": "none", "room": False, **params}


def describe(spec) -> str:
    """An augmentation spec in one readable line."""
    kinds = ", ".join(f"{k} {v:.0%}" for k, v in spec.shares().items())
    return (f"noise p={spec.p_noise:g} ({kinds}) at SNR U{spec.snr_db} dB, babble of {spec.babble_talkers[0]}-"
            f"{spec.babble_talkers[1]} talkers; room p={spec.p_room:g}, RT60 U{spec.rt60} s, "
            f"{spec.room_length}x{spec.room_width}x{spec.room_height} m; gain p={spec.p_gain:g} U{spec.gain_db} dB; "
            f"band limit p={spec.p_band:g}, high-pass U{spec.band_low} Hz, low-pass U{spec.band_high} Hz")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _versions() -> str:
    names = ["voicelab", "numpy", "audiomentations", "pyroomacoustics", "dask", "distributed", "soundfile", "keras"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    for engine, program in (("flite", "flite"), ("espeak", "espeak-ng")):
        try:
            found.append(f"{program} {engine_version(engine)}")
        except Exception:  # noqa: BLE001 - a missing program is said, not raised, on a card
            found.append(f"{program} (not found)")
    return ", ".join(found)


def write_card(out: str | Path, manifest: Manifest, spec, *, grammar: CommandGrammar, pool: VoicePool) -> Path:
    """Compute the coverage report and the audit, save their figures, write ``out/card.md``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from voicelab.evaluation.audit import audit
    from voicelab.evaluation.coverage import coverage_report
    from voicelab.ui import audit_plots, coverage_plots

    out = Path(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    train = [command_of(u) for u in manifest if u.split == "train"]
    coverage = coverage_report(train, grammar=grammar)
    records = audit_records(manifest)
    report = audit(records, spec.augmentation, seed=spec.seed)
    drawn = {"intent_value_counts.png": coverage_plots.plot_intent_value_counts(coverage),
             "carrier_balance.png": coverage_plots.plot_carrier_balance(coverage),
             "declared_vs_drawn.png": audit_plots.plot_declared_vs_drawn(records, spec.augmentation),
             "association.png": audit_plots.plot_association(report)}
    for name, fig in drawn.items():
        fig.savefig(figures / name, dpi=90, bbox_inches="tight")
        plt.close(fig)

    splits = collections.Counter(u.split for u in manifest)
    engines = collections.Counter((u.meta["engine"], u.split) for u in manifest)
    intents = collections.Counter((u.meta["intent"], u.split) for u in manifest)
    names = sorted(splits)
    hours = {s: sum(u.duration for u in manifest if u.split == s) / 3600 for s in names}
    augmented = sum(u.path != u.meta["clean_path"] for u in manifest)
    summary = coverage.summary()
    violations = coverage.violations(spec.k)
    needed = min_size_for(grammar, spec.k)
    if spec.size < needed:
        design = (f"not designed: {spec.size} clips are fewer than the {needed} the grammar needs for k = {spec.k} "
                  f"(`min_size_for`); {len(violations)} (intent, value) pairs or carriers fall short")
    else:
        design = "holds" if not violations else f"{len(violations)} violation(s): " + "; ".join(violations[:5])
    text = f"""# Dataset card: spoken commands, {len(manifest)} clips (profile {spec.profile}, seed {spec.seed})

## Motivation
Training and testing data for a home voice assistant's recogniser: six intents (call, set_timer,
weather, play_music, lights_on, lights_off) and their slots, spoken by many synthetic voices, in
simulated rooms and noise. Made by voicelab's notebook 06 to measure what synthetic speech is worth:
each held-out test split changes one factor from training, so a score says what it measures.

## Composition
{_table(["split", "clips", "hours"], [[s, splits[s], f"{hours[s]:.2f}"] for s in names])}

Intents by split:

{_table(["intent"] + names, [[i] + [intents[(i, s)] for s in names] for i in sorted({k[0] for k in intents})])}

Engines by split:

{_table(["engine"] + names, [[e] + [engines[(e, s)] for s in names] for e in sorted({k[0] for k in engines})])}

{augmented} of {len(manifest)} clips are augmented (`path` is the augmented FLAC, `meta.clean_path` the clean one).
Each row of `manifest.jsonl` holds the transcript, the intent, the slots and their character spans, the voice
and its parameters, and every augmentation parameter (`meta`).

## Collection process
- **Sentences**: the kit's command grammar (`voicelab.data.commands`): intents drawn by weight, then a
  carrier phrase by weight, then the slot values (never weighted by how many combinations a template has);
  training values dealt from shuffled decks so that every (intent, value) pair occurs at least k = {spec.k}
  times. Held out: carrier phrases (`test_phrasings`) and slot values (`test_values`).
- **Voices**: {", ".join(f"{k}: {v}" for k, v in pool.summary().items())} (each engine's share of the
  training sentences: {", ".join(f"{e} {s:.3f}" for e, s in pool.shares().items())}); `test_voices` is spoken by
  the held-out voices and engines only.
- **Augmentation** (declared): {describe(spec.augmentation)}. `test_noise` draws from: {describe(spec.augmentation.held_out())}; `test_noise` uses the held-out noise kinds and rooms.
  Each clip's parameters come from its own seed (sha256 of the dataset seed and the clip id).
- **Made** in shards of {spec.shard_size} clips on Dask; the same spec gives the same files bit for bit
  whatever the number of workers. Versions: {_versions()}.
- **Remake**: `python -m voicelab synth-data --profile {spec.profile} --size {spec.size} --seed {spec.seed} --out DIR`

## Coverage (training split)
{_table(["figure", "value"], [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in summary.items()])}

Coverage design (k = {spec.k}): {design}.

![intent x value](figures/intent_value_counts.png)
![carrier balance](figures/carrier_balance.png)

## Audit of the augmentation's randomness: {"PASSED" if report.passed else "FAILED"}
{report.markdown() if hasattr(report, "markdown") else report.summary()}

{"" if report.passed else "Failures:" + "".join(chr(10) + "- " + f for f in report.failures)}

![declared vs drawn](figures/declared_vs_drawn.png)
![association](figures/association.png)

## Uses and limits
- For training and testing spoken-command recognisers, and for studying what synthetic speech teaches.
- Every voice is synthetic (flite, eSpeak NG, WORLD warps, the kit's TTS): a score on it is not a score
  on people. Rooms are shoe-boxes (image-source method) and the noise is coloured noise and babble made
  from the dataset's own clips; real rooms and real noise differ.
- English only; the vocabulary is the grammar's.
"""
    (out / "card.md").write_text(text, encoding="utf-8")
    return out / "card.md"
