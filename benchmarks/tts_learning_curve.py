"""Learning curve of notebook 02's TTS models: WER ratio and MCD against training minutes.

    python benchmarks/tts_learning_curve.py --profile quick --variant seed
    python benchmarks/tts_learning_curve.py --profile quick --variant emotions+variance
    python benchmarks/tts_learning_curve.py --profile quick --set decoder_lstm=False --set decoder_blocks=5
    python benchmarks/tts_learning_curve.py --profile quick --voice reference --epochs 12 \
        --start-from data/models/tts-speaker-quick
    python benchmarks/tts_learning_curve.py --profile quick --corpus data/corpus-more --held-out

Trains the speaker-id model (or ``--voice reference``) of a recipe variant
(``voicelab.recipes.tts``; a variant trained on every emotion gets as many times fewer
epochs, so the same number of steps; ``--set FIELD=VALUE`` changes any other field)
from scratch, or ``--start-from`` a trained run (warm start:
``voicelab.models.tts.warm_start``; its minutes count), on the profile's corpus or
``--corpus``, in a run folder of its own (``DATA_DIR/models/curve-<variant>[-...]/``),
with the durations of notebook 02's aligner (loaded from ``DATA_DIR/models``, or trained
there; its minutes count). Every ``--every`` epochs it scores the model on the test
sentences, or with ``--held-out`` on the sentences of no corpus
(``voicelab.recipes.tts.held_out_set``): Griffin-Lim, pocketsphinx WER against the
recordings', MCD; the scoring time is left out of the minutes. Prints one line per
point and writes ``curve.json`` in the run folder; the last line is the final point.

    python benchmarks/tts_learning_curve.py --plot data/models/curve-*/curve.json --out curve.png

draws curves already measured (WER ratio and MCD against minutes, one line per run) into
one figure instead of training.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _field_value(recipe, item: str) -> tuple[str, object]:
    """``"learning_rate=0.004"`` -> ``("learning_rate", 0.004)``, typed like the recipe's field."""
    name, _, text = item.partition("=")
    if name not in {f.name for f in dataclasses.fields(recipe)} or name in ("profile", "audio"):
        raise SystemExit(f"--set {item}: the recipe has no field {name!r} to change")
    kind = type(getattr(recipe, name))
    if kind is bool:
        if text not in ("True", "False"):
            raise SystemExit(f"--set {item}: {name} is True or False")
        return name, text == "True"
    return name, kind(text)


def _variant(r) -> str:
    """``"seed"`` (notebook 02's first model) or what the recipe adds to it: ``"emotions+variance"``."""
    return "+".join(name for name in ("emotions", "variance") if getattr(r, name)) or "seed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--variant", default="seed", choices=("seed", "emotions", "variance", "emotions+variance"))
    parser.add_argument("--voice", default="speaker", choices=("speaker", "reference"),
                        help="the speaker-id model or the reference-encoder one")
    parser.add_argument("--start-from", type=Path, default=None, metavar="RUN_FOLDER",
                        help="warm-start from this trained run's model (e.g. data/models/tts-speaker-quick)")
    parser.add_argument("--epochs", type=int, default=None, help="TTS epochs (default: the recipe's)")
    parser.add_argument("--every", type=int, default=None, help="score every this many epochs (default: 4 points)")
    parser.add_argument("--sentences", type=int, default=None, help="test sentences per speaker (default: n_eval)")
    parser.add_argument("--corpus", type=Path, default=None, metavar="FOLDER",
                        help="train and test on this corpus (a build_corpus folder, e.g. with more sentences) "
                             "instead of DATA_DIR/corpus-<profile>")
    parser.add_argument("--held-out", action="store_true",
                        help="score the held-out sentences (in no corpus) instead of the test split")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a field of the recipe (TTSRecipe), e.g. learning_rate=0.004; repeatable")
    parser.add_argument("--plot", nargs="+", type=Path, metavar="CURVE_JSON",
                        help="only draw these measured curves (curve.json files) into --out")
    parser.add_argument("--out", type=Path, default=Path("tts_learning_curve.png"), help="figure of --plot")
    args = parser.parse_args(argv)
    if args.plot:
        return plot_curves(args.plot, args.out)

    import keras

    from voicelab.data import read_manifest
    from voicelab.evaluation import metrics
    from voicelab.evaluation.tables import format_table
    from voicelab.evaluation.tts import results_table
    from voicelab.recipes import tts
    from voicelab.train import load_run

    keras.utils.set_random_seed(0)
    r = tts.recipe(args.profile, emotions="emotions" in args.variant, variance="variance" in args.variant)
    if r.emotions:   # every emotion: as many times the clips, so as many times fewer epochs, the same steps
        n = len(read_manifest(args.data_dir / f"corpus-{args.profile}" / "manifest.jsonl").emotions)
        r = r.with_changes(align_epochs=math.ceil(r.align_epochs / n), tts_epochs=math.ceil(r.tts_epochs / n))
    if args.epochs:
        r = r.with_changes(tts_epochs=args.epochs, reference_epochs=args.epochs)
    changes = dict(_field_value(r, item) for item in args.set)
    r = r.with_changes(**changes)
    variant = _variant(r)
    every = args.every or max(r.epochs_of(args.voice) // 4, 1)
    data = tts.prepare(r, data_dir=args.data_dir,
                       corpus=read_manifest(args.corpus / "manifest.jsonl") if args.corpus else None)
    test = tts.held_out_set(r, data.speakers, data_dir=args.data_dir) if args.held_out else data.test
    n_eval = args.sentences or (r.n_held_out if args.held_out else None)
    models = args.data_dir / "models" / "-".join(["curve", variant.replace("+", "-"),
                                                   *([args.corpus.name] if args.corpus else []),
                                                   *(["held-out"] if args.held_out else []),
                                                   *(["reference"] if args.voice == "reference" else []),
                                                   *(["warm"] if args.start_from else []),
                                                   *(f"{k}={v}" for k, v in changes.items())])
    seed = tts.recipe(args.profile)   # notebook 02's aligner, trained on the neutral clips, aligns every variant
    seed_data = data if variant == "seed" and not args.corpus else tts.prepare(seed, data_dir=args.data_dir)
    aligner = tts.train_or_load_aligner(seed, seed_data, models_dir=args.data_dir / "models", verbose=0)
    judge, transcripts, references = metrics.Transcriber(), {}, tts.references(data)

    def score(model) -> dict:
        result = tts.evaluate(r, {args.voice: model}, test=test, speakers=data.speakers,
                              references=references, emotions=data.emotions, n_eval=n_eval,
                              transcriber=judge, truth_transcripts=transcripts)[args.voice]
        average = results_table(result)[-1]
        return {k: round(average[k], 4) for k in ("mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity")}

    source = load_run(args.start_from) if args.start_from else None   # its minutes count too
    start_minutes = (aligner.seconds + (source.seconds if source else 0)) / 60
    curve = tts.LearningCurve(score, every=every, start_minutes=start_minutes)
    run = tts.train_or_load_tts(r, data, args.voice, durations=tts.durations(aligner.model, data), models_dir=models,
                                retrain=True, verbose=0, callbacks=[curve], start_from=source and source.model)
    result = {"variant": variant, "voice": args.voice, "start_from": str(args.start_from or ""),
              "corpus": str(args.corpus or ""), "held_out": args.held_out,
              "source_seconds": source.seconds if source else 0, "epochs": run.info["epochs"], "changes": changes,
              "recipe": dataclasses.asdict(r), "aligner_seconds": aligner.seconds,
              "tts_seconds": run.seconds, "points": curve.points}
    (models / "curve.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"{variant} {changes or ''}: aligner {aligner.seconds:.0f} s, {args.voice} TTS {run.seconds:.0f} s "
          f"({run.info['epochs']} epochs of {len(data.batches['train'])} batches"
          f"{', warm-started from ' + str(args.start_from) if args.start_from else ''})")
    print(format_table(curve.points))
    last = curve.points[-1]
    print(f"final ({variant}, {last['minutes']:.1f} min of training): WER ratio {last['wer_ratio']:.2f}, "
          f"MCD {last['mcd']:.2f} dB, similarity {last['similarity']:.3f}")
    return 0


def _label(result: dict) -> str:
    """``"seed recipe, dropout 0.1, 28 epochs"`` for a curve.json."""
    r, reference = result["recipe"], result.get("voice") == "reference"
    changes = "".join(f", {k}={v}" for k, v in result["changes"].items() if k != "dropout")
    voice = (", reference encoder" if reference else "") + (", warm start" if result.get("start_from") else "")
    voice += f", corpus {Path(result['corpus']).name}" if result.get("corpus") else ""
    epochs = result.get("epochs", r["tts_epochs"])   # curves measured before run epochs were saved: speaker-id ones
    return f"{result['variant']} recipe{voice}, dropout {r['dropout']}{changes}, {epochs} epochs"


def plot_curves(files: list[Path], out: Path) -> int:
    """WER ratio and MCD against training minutes of each ``curve.json``, one figure; prints the points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from voicelab.evaluation.tables import format_table

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for file in files:
        result = json.loads(Path(file).read_text())
        points, label = result["points"], _label(result)
        print(format_table(points, title=f"{file}: {label}"))
        for ax, key in zip(axes, ("wer_ratio", "mcd")):
            ax.plot([p["minutes"] for p in points], [p[key] for p in points], "o-", label=label)
    axes[0].set(xlabel="training minutes (aligner included)", ylabel="WER ratio (synthetic / recordings)",
                title="intelligibility (lower is better)")
    axes[1].set(xlabel="training minutes (aligner included)", ylabel="MCD (dB)", title="spectral distance")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.savefig(out, dpi=100)
    print(f"figure: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
