"""Throughput of spoken-command data: clips per second with 1 and 2 Dask workers.

    python benchmarks/synthetic_data.py --clips 600 --data-dir data [--kit-clips 200]

Makes the same dataset (``voicelab.recipes.command_data``, augmentation included: rooms,
noise, gain, band limits, both the clean and the augmented FLAC written) twice, with a
``LocalCluster`` of 1 and of 2 single-threaded workers, for each path:

- the **system synthesizers** (flite, eSpeak NG, WORLD-derived voices);
- the **kit's TTS** (notebook 02's model of ``--profile`` and the kit's vocoder;
  skipped, and said, where it is not trained);
- the **VoiceGAN voices** (a flite voice re-spoken by notebook 05's SpeechSplit decoder
  in VoiceGAN's voices, and the kit's vocoder; skipped where notebook 05 is not trained).

It prints clips per second (the cluster's start-up and the babble bank counted, the
coverage report and the card not: ``report=False``), the scaling efficiency
(rate with 2 workers / (2 x rate with 1)), the peak memory of the whole process tree,
and checks that both runs wrote the same files. Targets on 2 cores: 40 clips/s (system),
10 clips/s (kit's TTS), 80 % efficiency.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicelab.errors import ParameterError  # noqa: E402


class PeakMemory:
    """The largest resident memory of this process and its children, sampled every 0.2 s."""

    def __init__(self) -> None:
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.flac")) + [folder / "manifest.jsonl"]:
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def measure(spec, workers: int, data_dir: Path) -> tuple[float, float, str]:
    from voicelab.recipes.command_data import build_dataset

    out = Path(tempfile.mkdtemp(prefix="voicelab-bench-"))
    try:
        with PeakMemory() as memory:
            started = time.perf_counter()
            build_dataset(out / "d", spec, workers=workers, data_dir=data_dir, progress=False, report=False)
            seconds = time.perf_counter() - started
        return spec.size / seconds, memory.peak / 2**30, digest(out / "d")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--clips", type=int, default=600, help="clips per run, system synthesizers")
    parser.add_argument("--kit-clips", type=int, default=200,
                        help="clips per run, each path of the kit's models (0: skip them)")
    parser.add_argument("--data-dir", default="data", type=Path)
    args = parser.parse_args(argv)

    from voicelab.recipes.command_data import dataset_spec, dataset_voices

    paths = {"system synthesizers": dataset_spec(args.profile, size=args.clips, kit_tts=False, voicegan=False,
                                                 engines=("flite", "espeak", "world"))}
    for name, engine in (("kit TTS + vocoder", "kit-tts"), ("VoiceGAN voices", "voicegan")):
        spec = dataset_spec(args.profile, size=max(args.kit_clips, 1), engines=(engine,))
        if args.kit_clips <= 0:
            print(f"{name}: --kit-clips 0, that path is skipped")
            continue
        try:
            dataset_voices(spec, args.data_dir)
        except ParameterError:      # no such voices: the model is not trained
            print(f"{name}: no trained model of profile {args.profile} in {args.data_dir}: that path is skipped")
            continue
        paths[name] = spec
    print(f"{'path':<22} {'clips':>6} {'1 worker':>10} {'2 workers':>10} {'efficiency':>10} {'peak GiB':>9} same")
    for name, spec in paths.items():
        one, mem1, d1 = measure(spec, 1, args.data_dir)
        two, mem2, d2 = measure(spec, 2, args.data_dir)
        print(f"{name:<22} {spec.size:>6} {one:>9.1f}/s {two:>9.1f}/s {two / (2 * one):>10.0%} "
              f"{max(mem1, mem2):>9.2f} {'yes' if d1 == d2 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
