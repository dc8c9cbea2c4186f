"""Score notebooks/05_emotional_voice_cloning.ipynb's SpeechSplit swaps on the test split, with its emotion judge.

Loads ``DATA_DIR/models/speechsplit-<profile>[-variant]/``, ``codegan-<profile>[-variant]``
and ``emotion-judge-<profile>`` (trained by the notebook), renders every evaluation pair (the
recording, it through the kit's vocoder, SpeechSplit's reconstruction, the neutral clip
with the rhythm, the pitch or both from the emotional one, and the neutral clip made
emotional by CodeGAN), and prints the judge's accuracy per system and
target emotion, and the prosody (f0 correlation and RMSE against the real recording,
duration ratio, MCD), the voice kept (cosine to the neutral source) and pocketsphinx
WER. The recipe (``voicelab.recipes.speechsplit``) and the scoring
(``voicelab.recipes.speechsplit_eval``) are the notebook's; the last lines hold
the swaps' and CodeGAN's accuracy per emotion against the quick target (above chance for each).

    python benchmarks/evaluate_emotion_cloning.py --profile quick --data-dir data [--content-input envelope]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--content-input", default=None, choices=("mel", "envelope", "centred"),
                        help="the SpeechSplit variant (default: the recipe's)")
    parser.add_argument("--sentences", type=int, default=None, help="test sentences per speaker (default: n_eval)")
    args = parser.parse_args(argv)

    from voicelab.artifacts import load_vocoder
    from voicelab.evaluation.emotion import judge_table
    from voicelab.evaluation.metrics import Transcriber
    from voicelab.evaluation.tables import format_table
    from voicelab.recipes import speechsplit, speechsplit_eval

    changes = {k: v for k, v in (("content_input", args.content_input), ("n_eval", args.sentences)) if v is not None}
    r = speechsplit.recipe(args.profile, **changes)
    data = speechsplit.prepare(r, data_dir=args.data_dir, progress=False)
    run = speechsplit.load(r, "speechsplit", data_dir=args.data_dir)
    judge = speechsplit.load(r, "judge", data_dir=args.data_dir).model
    codegan = speechsplit.load(r, "codegan", data_dir=args.data_dir).model
    vocoder = load_vocoder(args.profile, data_dir=args.data_dir)
    started = time.perf_counter()
    sentences = len({neutral.sentence_id for neutral, _ in speechsplit_eval.evaluation_pairs(r, data)})
    rows = speechsplit_eval.evaluate(run.model, judge, r, data, vocoder=vocoder, transcriber=Transcriber(),
                                     codegan=codegan, progress=True)
    table = judge_table(rows, systems=speechsplit_eval.SYSTEMS, emotions=data.emotions)
    print(format_table(table, title=f"{run.folder.name} ({run.info['steps']} steps, {run.seconds:.0f} s of training); "
                                    f"{r.eval_speakers} speakers x {sentences} test sentences"))
    print(f"scored in {time.perf_counter() - started:.0f} s")
    emotions = [e for e in data.emotions if e != "neutral"]
    for system in ("rhythm+pitch", "codegan"):
        row = next(t for t in table if t["system"] == system)
        met = all(row[e] > 1 / len(data.emotions) for e in emotions)
        print(f"{system}, judge accuracy: " + ", ".join(f"{e} {row[e]:.2f}" for e in emotions)
              + f" (quick target: each above chance {1 / len(data.emotions):.2f}: {'met' if met else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
