"""Score the VQ-VAE voice conversion of notebooks/04_vqvae_voice_conversion.ipynb on the test split.

Loads ``DATA_DIR/models/vqvae-<voice>-<profile>/`` (trained by the notebook), converts
every speaker's rendition of the first ``--sentences`` test sentences into every
speaker's voice, vocodes with the kit's vocoder (Griffin-Lim if notebook 03 has not
trained it) and prints, per ordered pair and averaged: resemblyzer similarity to the
target's and to the source's recording, the share of conversions closer to the
target, pocketsphinx WER next to the source's through the same vocoder, and MCD to the
target's recording next to the source-target MCD. ``--unseen`` adds sources of no corpus
(eSpeak NG voices). The recipe (``voicelab.recipes.conversion``) is the notebook's; the
last line holds the headline averages and the quick target.

    python benchmarks/evaluate_conversion.py --profile quick --data-dir data
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
    parser.add_argument("--voice", default="speaker", choices=("speaker", "embedding"))
    parser.add_argument("--sentences", type=int, default=None,
                        help="test sentences per speaker (default: the recipe's n_eval, as the notebook)")
    parser.add_argument("--unseen", action="store_true", help="also convert eSpeak NG voices (no corpus has them)")
    args = parser.parse_args(argv)

    from voicelab.artifacts import load_vocoder, load_vqvae
    from voicelab.evaluation.conversion import pair_table
    from voicelab.evaluation.tables import format_table
    from voicelab.recipes import conversion

    r = conversion.recipe(args.profile)
    if args.sentences:
        r = r.with_changes(n_eval=args.sentences)
    data = conversion.prepare(r, data_dir=args.data_dir)
    run = load_vqvae(args.profile, args.voice, data_dir=args.data_dir)
    if args.voice == "embedding":
        conversion.add_embeddings(data)
    vocoder = load_vocoder(args.profile, data_dir=args.data_dir)
    sources, targets = conversion.sources_and_targets(r, data)
    started = time.perf_counter()
    rows = conversion.evaluate(run.model, r, data, sources, targets, vocoder=vocoder, progress=True)
    table = pair_table(rows)
    print(format_table(table, title=f"{run.folder.name} ({run.info['steps']} steps, {run.seconds:.0f} s of training); "
                                    f"{r.n_eval} test sentences per speaker"))
    print(format_table(pair_table(rows, kind="reconstruction")[-1:], title="reconstructions"))
    if args.unseen:
        unseen = conversion.unseen_sources(r, data)
        print(format_table(pair_table(conversion.evaluate(run.model, r, data, unseen, targets, vocoder=vocoder)),
                           title="sources of no corpus"))
    a = table[-1]
    print(f"scored in {time.perf_counter() - started:.0f} s")
    print(f"average over pairs: closer to target {100 * a['closer_to_target']:.0f} % (quick target 90 %), "
          f"sim target {a['sim_target']:.3f}, sim source {a['sim_source']:.3f}, WER {a['wer']:.3f} vs source "
          f"{a['source_wer']:.3f}, MCD to target {a['mcd_target']:.2f} vs source-target {a['mcd_source_target']:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
