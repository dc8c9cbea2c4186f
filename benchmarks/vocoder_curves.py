"""Vocoder variants side by side on one budget: PESQ-WB and STOI against training minutes.

    python benchmarks/vocoder_curves.py --profile quick [--data-dir data] [--variants ...]

Trains each variant of notebook 03's recipe (``voicelab.recipes.vocoder``) from scratch
in a run folder of its own (``DATA_DIR/models/curve-<variant>/``, reloaded if finished:
delete it to measure again), and every ``--every`` optimizer steps scores the network
being trained on the validation split (``--per-speaker`` neutral sentences per
speaker; the test split is left for the notebook's tables). The scoring time is left
out of the minutes. Then it prints one table (variant, parameters, steps, minutes,
PESQ-WB, STOI, MCD at the end, CPU real-time factor as the kit calls the network),
writes ``curves.json`` and ``curves.png`` (PESQ-WB and STOI against minutes, with
Griffin-Lim's level as a line) into ``DATA_DIR/models/``; the last line names the best
variant by final PESQ-WB.

Variants (each on the recipe's own budget for its kind):

- ``melgan-paper``: MelGAN with the paper's losses only, GAN steps from the start;
- ``melgan``: MelGAN as the kit trains it: STFT-loss warm-up, then GAN + STFT loss;
- ``istft``: the inverse-STFT vocoder, magnitudes learned from scratch;
- ``istft-prior``: the same with the mel pseudo-inverse as its magnitude prior (the
  kit's default vocoder).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = ("melgan-paper", "melgan", "istft", "istft-prior")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--every", type=int, default=None, help="score every this many steps (default: 6 points)")
    parser.add_argument("--per-speaker", type=int, default=2, help="validation sentences per speaker")
    args = parser.parse_args(argv)

    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from voicelab.data import build_corpus
    from voicelab.data.manifest import Manifest
    from voicelab.evaluation.tables import format_table
    from voicelab.evaluation.vocoders import evaluate_vocoders, metric_table
    from voicelab.recipes import vocoder as recipes
    from voicelab.train.callbacks import global_step
    from voicelab.vocoders import griffin_lim_vocoder, neural_vocoder

    base = recipes.recipe(args.profile)
    config = base.model.audio
    corpus = build_corpus(args.data_dir / f"corpus-{args.profile}", profile=args.profile, seed=0)
    train = recipes.training_clips(corpus)
    valid = corpus.filter(split="valid", emotion="neutral")
    probe = Manifest([u for s in valid.speakers for u in list(valid.filter(speaker=s))[: args.per_speaker]],
                     valid.root)
    cache = args.data_dir / "cache"
    models = args.data_dir / "models"

    def score(vocode) -> dict:
        rows = evaluate_vocoders(probe, {"v": vocode}, config=config, cache_dir=cache)
        return {k: round(v, 4) for k, v in metric_table(rows)[0].items() if k in ("pesq_wb", "stoi", "mcd")}

    class Probe(keras.callbacks.Callback):
        """Scores the network every ``every`` steps; keeps training seconds net of its own time."""

        def __init__(self, network, every: int) -> None:
            super().__init__()
            self.network, self.every, self.points, self.spent = network, every, [], 0.0

        def on_train_begin(self, logs=None) -> None:   # MelGAN calls fit once per phase: start once
            if not hasattr(self, "start"):
                self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None) -> None:
            step = global_step(self.model)
            if step % self.every == 0:
                t0 = time.perf_counter()
                minutes = (t0 - self.start - self.spent) / 60
                network = self.network(self.model)
                point = score(lambda mel: keras.ops.convert_to_numpy(network(mel[None], training=False))
                              .reshape(-1))
                self.spent += time.perf_counter() - t0
                self.points.append({"step": step, "minutes": round(minutes, 2), **point})
                print(f"  {self.points[-1]}", flush=True)

    plans = {
        "melgan-paper": (base.ablation("paper"), "melgan"),
        "melgan": (base, "melgan"),
        "istft": (base.with_changes(istft=dataclasses.replace(base.istft, magnitude_prior=False)), "istft"),
        "istft-prior": (base.with_changes(istft=dataclasses.replace(base.istft, magnitude_prior=True)), "istft"),
    }
    mels = _mels(probe, config, cache)                    # the RTF's inputs, the same for every variant
    results, table = {}, []
    gl = score(griffin_lim_vocoder(config, n_iter=base.gl_iters))
    print(f"Griffin-Lim ({base.gl_iters} iterations) on {len(probe)} validation clips: {gl}")
    for variant in args.variants:
        r, kind = plans[variant]
        steps = r.budget(kind).steps
        every = args.every or max(steps // 6, 1)
        folder = models / f"curve-{variant}"
        print(f"{variant}: {steps} steps, scored every {every}", flush=True)
        keras.utils.set_random_seed(0)
        if kind == "melgan":
            probe_cb = Probe(lambda m: m.generator, every)
            run = recipes.train_or_load_melgan(r, train, models_dir=models, name=folder.name, cache_dir=cache,
                                               verbose=0, callbacks=[probe_cb])
        else:
            probe_cb = Probe(lambda m: m, every)
            run = recipes.train_or_load_istft(r, train, models_dir=models, name=folder.name, cache_dir=cache,
                                              verbose=0, callbacks=[probe_cb])
        if probe_cb.points:      # trained now: the minutes net of scoring
            points, minutes = probe_cb.points, (run.seconds - probe_cb.spent) / 60
        else:                    # loaded: what the training run saved (older runs: wall minutes)
            saved = json.loads((folder / "curve.json").read_text())
            points, minutes = saved["points"], saved.get("minutes", run.seconds / 60)
        vocode = neural_vocoder(run.model, config)
        final = score(vocode)
        if not points or points[-1]["step"] < run.info["steps"]:   # the curve ends where training ended
            points.append({"step": run.info["steps"], "minutes": round(minutes, 2), **final})
        (folder / "curve.json").write_text(json.dumps({"variant": variant, "minutes": minutes, "points": points},
                                                      indent=1))
        vocode(mels[0])                                   # warm-up: trace once
        t0 = time.perf_counter()
        for mel in mels:
            vocode(mel)
        rtf = (time.perf_counter() - t0) / (sum(len(m) for m in mels) * config.hop_length / config.sr)
        results[variant] = {"points": points, "final": final, "rtf": rtf, "params": run.model.count_params(),
                            "steps": run.info["steps"], "minutes": minutes}
        table.append({"variant": variant, "params_M": round(run.model.count_params() / 1e6, 2),
                      "steps": run.info["steps"], "minutes": round(minutes, 1), **final,
                      "rtf": round(rtf, 4)})
    table.append({"variant": f"Griffin-Lim {base.gl_iters}", "params_M": 0, "steps": 0, "minutes": 0, **gl,
                  "rtf": float("nan")})
    (models / "curves.json").write_text(json.dumps({"griffin_lim": gl, "variants": results}, indent=1))

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    for ax, metric in zip(axes, ("pesq_wb", "stoi")):
        for variant, result in results.items():
            pts = result["points"]
            ax.plot([p["minutes"] for p in pts], [p[metric] for p in pts], marker="o", label=variant)
        ax.axhline(gl[metric], color="tab:gray", linestyle="--", label=f"Griffin-Lim {base.gl_iters}")
        ax.set(xlabel="training minutes (2 CPU cores, scoring excluded)", ylabel=metric,
               title=f"{metric} on {len(probe)} validation clips, {args.profile} budget")
    axes[0].legend(fontsize=8)
    fig.savefig(models / "curves.png", dpi=110)
    print(format_table(table))
    best = max(results, key=lambda v: results[v]["final"]["pesq_wb"])
    print(f"best by final PESQ-WB: {best} ({results[best]['final']['pesq_wb']:.3f}, STOI "
          f"{results[best]['final']['stoi']:.3f}; Griffin-Lim {gl['pesq_wb']:.3f}, {gl['stoi']:.3f})")
    return 0


def _mels(manifest, config, cache):
    from voicelab.data.pipeline import FeatureCache

    features = FeatureCache(manifest, config, cache)
    return [features.load(u, audio=False)[1] for u in manifest]


if __name__ == "__main__":
    raise SystemExit(main())
