"""Log-mel and f0 of many clips: clips per second in one process and in worker processes.

    python benchmarks/feature_fill.py [--data-dir data] [--profile quick] [--clips 600] [--workers 1 2]

What the recipes do before training (``FeatureCache.fill``): compute each clip's log-mel
and f0 (WORLD's DIO + StoneMask) once and store them, here in a fresh temporary cache for
every worker count, so each run starts cold. The clips are the first ``--clips`` of
``DATA_DIR/corpus-<profile>``. The last line states the rate of each worker count and the
speed-up over one process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--profile", default="quick", help="read DATA_DIR/corpus-<profile>")
    parser.add_argument("--clips", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    from voicelab.data import FeatureCache, corpus_folder, read_manifest
    from voicelab.dsp.features import AudioConfig

    manifest = read_manifest(corpus_folder(args.data_dir, args.profile) / "manifest.jsonl")
    clips = list(manifest)[: args.clips]
    seconds_of_speech = sum(u.duration for u in clips)
    rates = {}
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as cache_dir:
            cache = FeatureCache(manifest, AudioConfig(), cache_dir)
            started = time.perf_counter()
            done = cache.fill(clips, kinds=("mel", "f0"), workers=workers)
            seconds = time.perf_counter() - started
        rates[workers] = done / seconds
        print(f"{workers} worker(s): {done} clips ({seconds_of_speech / 60:.1f} min of speech) in {seconds:.1f} s, "
              f"{rates[workers]:.1f} clips/s")
    base = rates.get(1)
    print("mel and f0, clips per second: " + ", ".join(
        f"{w} worker(s) {r:.1f}" + (f" ({r / base:.2f}x)" if base and w != 1 else "") for w, r in rates.items()))


if __name__ == "__main__":
    main()
