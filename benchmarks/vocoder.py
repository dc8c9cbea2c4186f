"""MelGAN vs Griffin-Lim: real-time factor on the CPU, on the same mels, in one run.

    python benchmarks/vocoder.py [--data-dir data] [--profile smoke] [--threads 2]

The mels are the log-mels of the corpus's test-split utterances (neutral). Each
configuration vocodes every mel (one warm-up pass first, then ``--repeats`` timed
passes); the real-time factor is seconds of computing per second of audio (lower is
better, < 1 is faster than real time). MelGAN steps, each on top of the previous:

1. the generator as trained (weight norm computed at every call);
2. weight norm folded into plain kernels (``remove_weight_norm``);
3. compiled: ``tf.function(jit_compile=True)`` (XLA) on TensorFlow, ``torch.compile``
   on PyTorch.

The generator is the paper's size and untrained: its speed does not depend on its
weights, so no trained model is needed. The last line states the best MelGAN RTF.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--profile", default="smoke", help="corpus-<profile> to read the test mels from")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every system")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--utterances", type=int, default=8)
    parser.add_argument("--gl-iters", type=int, default=32)
    args = parser.parse_args()

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import keras
    import numpy as np

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.set_visible_devices([], "GPU")
    else:
        import torch

        torch.set_num_threads(args.threads)

    from voicelab import griffin_lim
    from voicelab.data import build_corpus
    from voicelab.data.pipeline import FeatureCache
    from voicelab.features import AudioConfig
    from voicelab.models.melgan import MelGANConfig, build_generator
    from voicelab.models.weight_norm import remove_weight_norm

    config = AudioConfig()
    corpus = build_corpus(Path(args.data_dir) / f"corpus-{args.profile}", profile=args.profile, seed=0)
    test = corpus.filter(split="test", emotion="neutral")
    cache = FeatureCache(test, config)
    mels = [cache.mel(u) for u in list(test)[: args.utterances]]
    seconds = sum(len(m) * config.hop_length for m in mels) / config.sr
    print(f"{len(mels)} test mels, {seconds:.1f} s of audio; {args.threads} CPU threads; "
          f"keras {keras.__version__} ({backend})")

    generator = build_generator(MelGANConfig(audio=config))
    folded = remove_weight_norm(generator)

    def keras_call(model):
        return lambda mel: keras.ops.convert_to_numpy(model(mel[None], training=False))

    def compiled(model):
        if backend == "tensorflow":
            fn = tf.function(lambda x: model(x, training=False), jit_compile=True,
                             reduce_retracing=True)
            return lambda mel: fn(tf.constant(mel[None])).numpy()
        if backend == "torch":
            fn = torch.compile(lambda x: model(x, training=False), dynamic=True)
            return lambda mel: fn(torch.from_numpy(mel[None])).detach().numpy()
        raise SystemExit(f"no compiled path for backend {backend}")

    def gl(mel):
        return griffin_lim.mel_to_audio(np.exp(mel), config=config, n_iter=args.gl_iters, workers=args.threads)

    systems = {
        f"Griffin-Lim ({args.gl_iters} iterations)": gl,
        "MelGAN, weight norm": keras_call(generator),
        "MelGAN, folded weight norm": keras_call(folded),
        "MelGAN, folded + " + ("XLA" if backend == "tensorflow" else "torch.compile"): compiled(folded),
    }
    rtf = {}
    print(f"{'system':<40} {'RTF':>8} {'x real time':>12}")
    for name, fn in systems.items():
        for mel in mels:           # warm-up: tracing, compiling, caches
            fn(mel)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            for _ in range(args.repeats):
                for mel in mels:
                    fn(mel)
        rtf[name] = (time.perf_counter() - t0) / args.repeats / seconds
        print(f"{name:<40} {rtf[name]:>8.4f} {1 / rtf[name]:>11.0f}x")
    gl_rtf = next(v for k, v in rtf.items() if k.startswith("Griffin"))
    best = min((k for k in rtf if k.startswith("MelGAN")), key=rtf.get)
    print(f"speed ratio, Griffin-Lim time / best MelGAN time: {gl_rtf / rtf[best]:.2f} (> 1: MelGAN faster)")
    print(f"CPU RTF of the best MelGAN configuration ({best}, {args.threads} threads): "
          f"{rtf[best]:.4f} (target <= 0.03: {'met' if rtf[best] <= 0.03 else 'NOT met'})")


if __name__ == "__main__":
    main()
