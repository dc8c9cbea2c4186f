"""MelGAN vs Griffin-Lim (vs the recording): PESQ-WB, STOI, MCD, SC per speaker.

    python benchmarks/evaluate_vocoder.py --profile quick --data-dir data

Reads the trained generator ``DATA_DIR/models/melgan-<profile>.keras`` (written by
``notebooks/03_melgan_vocoder.ipynb``), vocodes the log-mel of every neutral test-split
utterance of ``DATA_DIR/corpus-<profile>`` with it and with Griffin-Lim, and prints the
mean of each metric per speaker and system, then over all speakers. Same code as the
notebook's metric table (``voicelab.vocoding.evaluate_vocoders``).
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
    parser.add_argument("--gl-iters", type=int, default=64)
    parser.add_argument("--per-speaker", type=int, default=None,
                        help="at most this many test utterances per speaker (default: all)")
    args = parser.parse_args()

    from voicelab.data import build_corpus
    from voicelab.data.manifest import Manifest
    from voicelab.features import AudioConfig
    from voicelab.models import melgan
    from voicelab.vocoding import evaluate_vocoders, format_table, griffin_lim_vocoder, metric_table

    model_path = Path(args.data_dir) / "models" / f"melgan-{args.profile}.keras"
    if not model_path.is_file():
        raise SystemExit(f"no trained MelGAN at {model_path}: run notebooks/03_melgan_vocoder.ipynb "
                         f"with PROFILE={args.profile!r} and DATA_DIR={args.data_dir!r} first")
    config = AudioConfig()
    corpus = build_corpus(Path(args.data_dir) / f"corpus-{args.profile}", profile=args.profile, seed=0)
    test = corpus.filter(split="test", emotion="neutral")
    utts = [u for s in test.speakers for u in list(test.filter(speaker=s))[: args.per_speaker]]
    generator = melgan.load_generator(model_path)
    systems = {"ground truth": None,
               f"Griffin-Lim ({args.gl_iters})": griffin_lim_vocoder(config, n_iter=args.gl_iters),
               "MelGAN": lambda mel: melgan.vocode(generator, mel)}
    rows = evaluate_vocoders(Manifest(utts, test.root), systems, config=config)
    print(f"{len(utts)} test utterances, {len(test.speakers)} speakers, model {model_path}")
    print(format_table(metric_table(rows, by=("speaker", "system"))))
    print()
    print(format_table(metric_table(rows)))


if __name__ == "__main__":
    main()
