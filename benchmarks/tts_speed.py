"""Speed of speech: text -> audio real-time factor of notebook 02's TTS on the CPU.

    python benchmarks/tts_speed.py --profile quick --data-dir data [--threads 2]

Synthesises the test sentences with the trained speaker-id model of
``notebooks/02_tts_cnn_bilstm.ipynb`` (``voicelab.artifacts.load_tts``), once with the
kit's vocoder (``voicelab.artifacts.load_vocoder``: notebook 03's iSTFT vocoder when it is
trained) and once with Griffin-Lim, and reports the real-time factor (seconds of
computing per second of speech; the text front-end, the acoustic model and the vocoder
all counted), after one warm-up pass. The last line states it (target: at most 0.05
with the kit's vocoder).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    else:
        import torch

        torch.set_num_threads(args.threads)

    from voicelab import synthesis
    from voicelab.artifacts import load_tts, load_vocoder
    from voicelab.data import read_manifest
    from voicelab.recipes import tts
    from voicelab.vocoders import griffin_lim_vocoder

    r = tts.recipe(args.profile)
    model, speakers, run = load_tts(args.profile, "speaker", data_dir=args.data_dir)
    corpus = read_manifest(args.data_dir / f"corpus-{args.profile}" / "manifest.jsonl")
    test = corpus.filter(split="test", emotion="neutral")
    texts = sorted({u.text for u in test})[: args.sentences]
    vocoders = {"kit vocoder": load_vocoder(args.profile, data_dir=args.data_dir, config=r.audio),
                f"Griffin-Lim ({r.gl_iters} it.)": griffin_lim_vocoder(r.audio, n_iter=r.gl_iters)}
    rtf = {}
    for name, vocode in vocoders.items():
        def speak_all():
            return sum(len(synthesis.synthesize(model, t, voice=speakers[0], config=r.audio, speakers=speakers,
                                                vocoder=vocode)[0]) for t in texts)
        speak_all()                                    # warm-up: tracing, caches
        started = time.perf_counter()
        samples = sum(speak_all() for _ in range(args.repeats))
        rtf[name] = (time.perf_counter() - started) / (samples / r.audio.sr)
        print(f"{name:<28} RTF {rtf[name]:.4f} ({1 / rtf[name]:.0f}x real time), "
              f"{samples / args.repeats / r.audio.sr:.1f} s of speech per pass")
    kit = rtf["kit vocoder"]
    print(f"text -> audio CPU RTF ({args.threads} threads, {keras.backend.backend()}, {len(texts)} sentences): "
          f"kit vocoder {kit:.4f} ({'met' if kit <= 0.05 else 'NOT met'}, target <= 0.05); "
          f"Griffin-Lim {rtf[next(k for k in rtf if k.startswith('Griffin'))]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
