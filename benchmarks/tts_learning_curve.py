"""Learning curve of notebook 02's speaker-id TTS: WER ratio and MCD against training minutes.

    python benchmarks/tts_learning_curve.py --profile quick --variant seed
    python benchmarks/tts_learning_curve.py --profile quick --variant emotions+variance

Trains the aligner and the speaker-id model of a recipe variant (``voicelab.recipes.tts``;
a variant trained on every emotion gets as many times fewer epochs, so the same number
of steps) from scratch in a run folder of its own (``DATA_DIR/models/curve-<variant>/``), and
every ``--every`` epochs scores the model on the recipe's test sentences (Griffin-Lim,
pocketsphinx WER against the recordings', MCD), the scoring time left out of the
minutes. Prints one line per point and writes ``curve.json`` in the run folder; the
last line is the final point.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--variant", default="seed", choices=("seed", "emotions", "variance", "emotions+variance"))
    parser.add_argument("--epochs", type=int, default=None, help="TTS epochs (default: the recipe's)")
    parser.add_argument("--every", type=int, default=None, help="score every this many epochs (default: 4 points)")
    parser.add_argument("--sentences", type=int, default=None, help="test sentences per speaker (default: n_eval)")
    args = parser.parse_args(argv)

    import keras

    from voicelab.data import read_manifest
    from voicelab.evaluation import metrics
    from voicelab.evaluation.tables import format_table
    from voicelab.evaluation.tts import results_table
    from voicelab.recipes import tts

    keras.utils.set_random_seed(0)
    r = dataclasses.replace(tts.recipe(args.profile), emotions="emotions" in args.variant,
                            variance="variance" in args.variant)
    if r.emotions:   # every emotion: as many times the clips, so as many times fewer epochs, the same steps
        n = len(read_manifest(args.data_dir / f"corpus-{args.profile}" / "manifest.jsonl").emotions)
        r = dataclasses.replace(r, align_epochs=math.ceil(r.align_epochs / n), tts_epochs=math.ceil(r.tts_epochs / n))
    if args.epochs:
        r = dataclasses.replace(r, tts_epochs=args.epochs)
    every = args.every or max(r.tts_epochs // 4, 1)
    data = tts.prepare(r, data_dir=args.data_dir)
    models = args.data_dir / "models" / f"curve-{r.variant.replace('+', '-')}"
    aligner = tts.train_or_load_aligner(r, data, models_dir=models, retrain=True, verbose=0)
    judge, transcripts = metrics.Transcriber(), {}

    def score(model) -> dict:
        result = tts.evaluate(r, {"speaker": model}, test=data.test, speakers=data.speakers,
                              emotions=data.emotions, n_eval=args.sentences, transcriber=judge,
                              truth_transcripts=transcripts)["speaker"]
        average = results_table(result)[-1]
        return {k: round(average[k], 4) for k in ("mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity")}

    curve = tts.LearningCurve(score, every=every, start_minutes=aligner.seconds / 60)
    run = tts.train_or_load_tts(r, data, "speaker", durations=tts.durations(aligner.model, data), models_dir=models,
                                retrain=True, verbose=0, callbacks=[curve])
    result = {"variant": r.variant, "recipe": dataclasses.asdict(r), "aligner_seconds": aligner.seconds,
              "tts_seconds": run.seconds, "points": curve.points}
    (models / "curve.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"{r.variant}: aligner {aligner.seconds:.0f} s, speaker-id TTS {run.seconds:.0f} s "
          f"({r.tts_epochs} epochs of {len(data.batches['train'])} batches)")
    print(format_table(curve.points))
    last = curve.points[-1]
    print(f"final ({r.variant}, {last['minutes']:.1f} min of training): WER ratio {last['wer_ratio']:.2f}, "
          f"MCD {last['mcd']:.2f} dB, similarity {last['similarity']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
