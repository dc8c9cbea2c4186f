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

Each step's ``max |diff|`` is the largest sample difference from the same generator
with weight norm, on the first mel: the speed-ups must not change the output.

Two MelGAN sizes are measured: the paper's (512 channels after the first conv;
the ``full`` profile) and the kit's CPU size (256 channels, three stages 8-8-4; the
``quick`` profile); then the kit's default vocoder, the iSTFT vocoder of the ``quick``
recipe (magnitude prior included), called eagerly, the
way the kit calls it (``voicelab.vocoders.neural_vocoder``: Keras's compiled
``predict_on_batch``) and XLA-compiled. All untrained: speed does not depend on the
weights, so no trained model is needed. The last line states the CPU RTF of the kit's
default vocoder as the kit calls it, and the best RTF of each MelGAN size.
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

    from voicelab.data import build_corpus
    from voicelab.data.pipeline import FeatureCache
    from voicelab.dsp import griffin_lim
    from voicelab.dsp.features import AudioConfig
    from voicelab.models.istft_vocoder import build_istft_vocoder
    from voicelab.models.melgan import build_generator
    from voicelab.models.weight_norm import remove_weight_norm
    from voicelab.recipes.vocoder import recipe
    from voicelab.vocoders import neural_vocoder

    config = AudioConfig()
    corpus = build_corpus(Path(args.data_dir) / f"corpus-{args.profile}", profile=args.profile, seed=0)
    test = corpus.filter(split="test", emotion="neutral")
    cache = FeatureCache(test, config)
    mels = [cache.mel(u) for u in list(test)[: args.utterances]]
    seconds = sum(len(m) * config.hop_length for m in mels) / config.sr
    print(f"{len(mels)} test mels, {seconds:.1f} s of audio; {args.threads} CPU threads; "
          f"keras {keras.__version__} ({backend})")

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

    systems = {f"Griffin-Lim ({args.gl_iters} iterations)": gl}
    sizes = {"paper": "full", "kit CPU": "quick"}
    for size, profile in sizes.items():
        generator = build_generator(recipe(profile, audio=config).model)
        folded = remove_weight_norm(generator)
        label = f"MelGAN {size} ({generator.count_params() / 1e6:.2f} M)"
        systems[f"{label}, weight norm"] = keras_call(generator)
        systems[f"{label}, folded weight norm"] = keras_call(folded)
        systems[f"{label}, folded + " + ("XLA" if backend == "tensorflow" else "torch.compile")] = compiled(folded)
    istft = build_istft_vocoder(recipe("quick", audio=config).istft)
    label = f"iSTFT kit ({istft.count_params() / 1e6:.2f} M)"
    systems[f"{label}, eager"] = keras_call(istft)
    systems[f"{label}, as the kit calls it"] = neural_vocoder(istft, config)
    systems[f"{label}, " + ("XLA" if backend == "tensorflow" else "torch.compile")] = compiled(istft)
    rtf, reference = {}, {}
    print(f"{'system':<50} {'RTF':>8} {'x real time':>12} {'max |diff|':>11}")
    for name, fn in systems.items():
        for mel in mels:           # warm-up: tracing, compiling, caches
            fn(mel)
        # each MelGAN step must keep the output: compare with the same size's weight-norm model
        size = name.split(", ")[0]
        out = np.asarray(fn(mels[0])).ravel()
        out = out[: len(mels[0]) * config.hop_length]
        diff = float(np.abs(out - reference.setdefault(size, out)).max()) if not size.startswith("Griffin") \
            else float("nan")
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            for _ in range(args.repeats):
                for mel in mels:
                    fn(mel)
        rtf[name] = (time.perf_counter() - t0) / args.repeats / seconds
        print(f"{name:<50} {rtf[name]:>8.4f} {1 / rtf[name]:>11.0f}x {diff:>11.1e}")
    gl_name = next(k for k in rtf if k.startswith("Griffin"))
    best = {size: min((k for k in rtf if k.startswith(f"MelGAN {size} (")), key=rtf.get) for size in sizes}
    for size, name in best.items():
        print(f"speed ratio, Griffin-Lim time / best MelGAN {size} time: {rtf[gl_name] / rtf[name]:.2f} "
              "(> 1: MelGAN faster)")
    kit = next(k for k in rtf if k.endswith("as the kit calls it"))
    print(f"CPU RTF ({args.threads} threads, target <= 0.03): kit vocoder (iSTFT, as load_vocoder calls it) "
          f"{rtf[kit]:.4f} ({'met' if rtf[kit] <= 0.03 else 'NOT met'}); " + "; ".join(
        f"MelGAN {size} {rtf[name]:.4f} ({'met' if rtf[name] <= 0.03 else 'NOT met'}, {name.split(', ', 1)[1]})"
        for size, name in best.items()) + f"; Griffin-Lim {rtf[gl_name]:.4f}")


if __name__ == "__main__":
    main()
