"""The vocoders vs Griffin-Lim (vs the recording): PESQ-WB, STOI, MCD, SC per speaker.

    python benchmarks/evaluate_vocoder.py --profile quick --data-dir data

Loads the trained vocoders of ``notebooks/03_melgan_vocoder.ipynb`` (the kit's iSTFT
vocoder, ``DATA_DIR/models/istft-<profile>/``, and MelGAN, ``melgan-<profile>/``;
either may be missing, not both), vocodes the log-mel of the neutral test-split
utterances of ``DATA_DIR/corpus-<profile>`` with them and with Griffin-Lim, and prints
the mean of each metric per speaker and system, then over all speakers; then the same
for the voices of no corpus (``voicelab.recipes.vocoder.unseen_recordings``). The
recipe (``voicelab.recipes.vocoder``) and the scoring (``voicelab.evaluation.vocoders``)
are the notebook's, so are the figures: by default the same ``n_eval`` sentences per
speaker and the same Griffin-Lim iterations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--per-speaker", type=int, default=None,
                        help="test utterances per speaker (default: the recipe's n_eval, as the notebook)")
    args = parser.parse_args()

    from voicelab.data import build_corpus
    from voicelab.data.manifest import Manifest
    from voicelab.evaluation.tables import format_table
    from voicelab.evaluation.vocoders import evaluate_vocoders, evaluate_vocoders_on_audio, metric_table
    from voicelab.recipes.vocoder import recipe, unseen_recordings
    from voicelab.train import is_trained, load_run
    from voicelab.vocoders import griffin_lim_vocoder, neural_vocoder

    r = recipe(args.profile)
    config = r.model.audio
    models = Path(args.data_dir) / "models"
    systems = {"ground truth": None, f"Griffin-Lim ({r.gl_iters})": griffin_lim_vocoder(config, n_iter=r.gl_iters)}
    for label, name in (("iSTFT vocoder (kit)", r.run_name("istft")), ("MelGAN", r.run_name("melgan"))):
        if is_trained(models / name):
            run = load_run(models / name)
            systems[label] = neural_vocoder(run.model, config)
            print(f"{label}: {models / name} ({run.info['steps']} steps, {run.seconds:.0f} s of training)")
    if len(systems) == 2:
        raise SystemExit(f"no trained vocoder in {models}: run notebooks/03_melgan_vocoder.ipynb with "
                         f"PROFILE={args.profile!r} and DATA_DIR={args.data_dir!r} first")
    corpus = build_corpus(Path(args.data_dir) / f"corpus-{args.profile}", profile=args.profile, seed=0)
    test = corpus.filter(split="test", emotion="neutral")
    per_speaker = args.per_speaker or r.n_eval
    utts = [u for s in test.speakers for u in list(test.filter(speaker=s))[:per_speaker]]
    rows = evaluate_vocoders(Manifest(utts, test.root), systems, config=config)
    print(f"{len(utts)} test utterances, {len(test.speakers)} speakers")
    print(format_table(metric_table(rows, by=("speaker", "system"))))
    print()
    print(format_table(metric_table(rows)))
    unseen = unseen_recordings(config)
    rows = evaluate_vocoders_on_audio(unseen, systems, config=config)
    print(f"\n{len(unseen)} recordings of {len({v for v, _ in unseen.values()})} voices of no corpus")
    print(format_table(metric_table(rows, by=("speaker", "system"))))
    print()
    print(format_table(metric_table(rows)))


if __name__ == "__main__":
    main()
