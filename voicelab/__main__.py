"""Command line: build the corpus, or sweep a notebook over a grid of parameters.

    python -m voicelab corpus --profile quick --out data/corpus-quick
    python -m voicelab corpus --profile quick --world-neutral --derived 36 --out data/corpus-quick-40
    python -m voicelab sweep notebooks/02_tts_cnn_bilstm.ipynb --profile smoke -p SEED 0 1 --out outputs/sweep

Example
-------
>>> main(["corpus", "--help"])      # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import sys
import time

from voicelab.errors import VoicelabError
from voicelab.profiles import PROFILES


def _corpus(args: argparse.Namespace) -> int:
    from voicelab.data import build_corpus, read_build_info

    started = time.perf_counter()
    manifest = build_corpus(args.out, profile=args.profile, seed=args.seed, workers=args.workers,
                            n_sentences=args.sentences, derived=args.derived, world_neutral=args.world_neutral,
                            progress=not args.quiet, overwrite=args.overwrite)
    info = read_build_info(manifest.root)
    elapsed = time.perf_counter() - started
    built = info["build"]["seconds"]
    fresh = elapsed + 0.05 >= built  # build.json rounds to 0.1 s
    when = f"built in {built:.1f} s" if fresh else f"already built (in {built:.1f} s); checked in {elapsed:.1f} s"
    splits = ", ".join(f"{k} {v}" for k, v in info["counts"]["sentences_per_split"].items())
    print(f"corpus:     {manifest.root}")
    print(f"utterances: {len(manifest)} ({info['counts']['sentences']} sentences; per split: {splits})")
    print(f"speakers:   {len(manifest.speakers)} ({', '.join(manifest.speakers)})")
    print(f"emotions:   {len(manifest.emotions)} ({', '.join(manifest.emotions)})")
    print(f"hours:      {manifest.hours:.3f}")
    print(f"time:       {when}")
    print(f"skipped:    {len(info['skipped'])}" + (" (listed in README.md)" if info["skipped"] else ""))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from voicelab.sweep import parse_value, sweep, table

    params = {name: [parse_value(v) for v in values] for name, *values in args.param}
    fixed = {name: parse_value(value) for name, value in args.set}
    rows = sweep(args.notebook, params, out=args.out, profile=args.profile, data_dir=args.data_dir, fixed=fixed,
                 plot=args.plot)
    failed = sum(r["status"] == "failed" for r in rows)
    print(f"{len(rows)} runs ({failed} failed): {args.out}/results.md, results.csv, results.png")
    for row in table(rows):
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("notebook", "error") and v != ""))
    return 1 if failed == len(rows) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``voicelab`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m voicelab", description="voicelab command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    corpus = commands.add_parser("corpus", help="build the offline parallel corpus (no download)")
    corpus.add_argument("--out", required=True, help="corpus folder to create")
    corpus.add_argument("--profile", choices=PROFILES, default="quick", help="size (default: quick)")
    corpus.add_argument("--seed", type=int, default=0, help="chooses sentences and splits (default: 0)")
    corpus.add_argument("--sentences", type=int, default=None, help="number of sentences (default: the profile's)")
    corpus.add_argument("--derived", type=int, default=0, metavar="N",
                        help="add N derived speakers (flite voices with random vocal-tract and F0 warps)")
    corpus.add_argument("--world-neutral", action="store_true",
                        help="send neutral clips through WORLD once too, like every emotional clip")
    corpus.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    corpus.add_argument("--overwrite", action="store_true", help="replace a corpus built with other parameters")
    corpus.add_argument("--quiet", action="store_true", help="no progress bar")
    corpus.set_defaults(run=_corpus)
    sweep = commands.add_parser("sweep", help="run a notebook over a grid of parameters (papermill)")
    sweep.add_argument("notebook", help="the notebook to run")
    sweep.add_argument("-p", "--param", nargs="+", action="append", default=[], metavar=("NAME", "VALUE"),
                       help="a swept parameter and its values (Python literals); repeat for a grid")
    sweep.add_argument("--set", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="a parameter fixed for every run")
    sweep.add_argument("--profile", choices=PROFILES, default="quick", help="PROFILE of every run (default: quick)")
    sweep.add_argument("--data-dir", default="data", help="DATA_DIR of every run (default: data)")
    sweep.add_argument("--out", required=True, help="folder for the executed notebooks and the results")
    sweep.add_argument("--plot", nargs="+", default=None, metavar="FIGURE",
                       help="recorded figures to draw in results.png (default: every numeric one)")
    sweep.set_defaults(run=_sweep)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except VoicelabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
