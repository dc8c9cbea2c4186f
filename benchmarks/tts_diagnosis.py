"""What limits notebook 02's intelligibility: the WER of one trained TTS model under oracles.

    python benchmarks/tts_diagnosis.py --profile quick
    python benchmarks/tts_diagnosis.py --profile quick --variant emotions+variance --sentences 12

Loads (or trains, through the same recipe and run folders as notebook 02) the aligner
and the speaker-id model of a recipe variant (``emotions+variance`` is section 7's
emotion model), then transcribes, with pocketsphinx, the same sentences spoken six ways:

- ``recording``: the corpus clip (the WER every ratio divides by);
- ``recording -> griffin-lim``: its mel through Griffin-Lim (the vocoder's share);
- ``tts``: the model alone, as ``synthesize`` speaks (predicted durations);
- ``tts, recorded durations``: the model teacher-forced with the aligner's durations of
  the recording (and, with the variance adaptor, its pitch and energy): the decoder's share;
- the last two on as many *training* sentences (seen text), which separates
  generalisation from underfitting.

Griffin-Lim with the recipe's iterations renders every mel. Prints one row per
condition (WER, ratio to the recordings of the same sentences, MCD) and, last, the
share of the gap each oracle closes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--variant", default="seed", choices=("seed", "emotions", "variance", "emotions+variance"))
    parser.add_argument("--sentences", type=int, default=None,
                        help="sentences per speaker and split (default: the recipe's n_eval)")
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    from keras import ops

    from voicelab.data.durations import DurationBatches
    from voicelab.data.manifest import Manifest
    from voicelab.data.pipeline import SpeechBatches
    from voicelab.dsp import audio as vl_audio
    from voicelab.evaluation import metrics
    from voicelab.evaluation.tables import format_table
    from voicelab.models.align import durations_by_id
    from voicelab.recipes import tts
    from voicelab.synthesis import synthesize
    from voicelab.vocoders import griffin_lim_vocoder

    keras.utils.set_random_seed(0)
    seed = tts.recipe(args.profile)
    r = seed.with_changes(emotions="emotions" in args.variant, variance="variance" in args.variant)
    if r.emotions:   # notebook 02's emotion model (section 7)
        r = r.with_changes(tts_epochs=r.emotion_epochs)
    data = tts.prepare(r, data_dir=args.data_dir)
    models_dir = args.data_dir / "models"
    # the aligner of the seed recipe, as in notebook 02, aligns every variant's clips
    seed_data = data if args.variant == "seed" else tts.prepare(seed, data_dir=args.data_dir)
    aligner = tts.train_or_load_aligner(seed, seed_data, models_dir=models_dir, verbose=0).model
    run = tts.train_or_load_tts(r, data, "speaker", durations=tts.durations(aligner, data), models_dir=models_dir,
                                verbose=0)
    model, config = run.model, r.audio
    print(f"{args.variant}: {r.run_name('speaker')}, trained {run.seconds:.0f} s", flush=True)

    n = args.sentences or r.n_eval
    test = tts.evaluation_set(r, data.test, n_eval=n)
    seen_ids = sorted({u.sentence_id for u in data.train.filter(emotion="neutral")})[:n]
    seen = data.train.filter(emotion="neutral").filter(sentence_id=seen_ids)
    vocode = griffin_lim_vocoder(config, n_iter=r.gl_iters)
    judge, truth_transcripts = metrics.Transcriber(), {}

    def teacher_forced(manifest: Manifest) -> dict[str, np.ndarray]:
        """Utterance id -> the model's mel given the recording's durations (and pitch, energy)."""
        batches = SpeechBatches(manifest, config=config, batch_size=8, speakers=data.speakers,
                                emotions=data.emotions, cache_dir=args.data_dir / "cache", with_audio=False,
                                shuffle=False)
        forced = DurationBatches(batches, durations_by_id(aligner, batches), f0=r.variance)
        mels = {}
        for index in range(len(forced)):
            batch = forced[index]
            out = ops.convert_to_numpy(model(batch, training=False)["mel"])
            for row, u in enumerate(batches.utterances(index)):
                mels[u.id] = out[row, : batch["mel_length"][row]]
        return mels

    def score(manifest: Manifest, render) -> dict:
        """WER and MCD of ``render(utt) -> audio`` over the manifest, and the recordings' WER."""
        refs, hyps, truths, mcds = [], [], [], []
        for u in manifest:
            y_true = vl_audio.load(manifest.audio_path(u), sr=config.sr)
            y = render(u, y_true)
            refs.append(u.text)
            hyps.append(judge(y, sr=config.sr))
            if u.id not in truth_transcripts:
                truth_transcripts[u.id] = judge(y_true, sr=config.sr)
            truths.append(truth_transcripts[u.id])
            mcds.append(metrics.mel_cepstral_distortion(y_true, y, sr=config.sr))
        wer, truth = metrics.word_error_rate(refs, hyps), metrics.word_error_rate(refs, truths)
        return {"n": len(refs), "wer": round(wer, 4), "wer_recording": round(truth, 4),
                "ratio": round(wer / truth, 3) if truth else float("inf"), "mcd": round(float(np.mean(mcds)), 3)}

    def spoken(u, _):
        return synthesize(model, u.text, voice=u.speaker, config=config, n_iter=r.gl_iters,
                          speakers=data.speakers, emotion=u.emotion if r.emotions else None,
                          emotions=data.emotions)[0]

    rows = []
    features = data.batches["train"].features
    for split, manifest in (("test", test), ("train", seen)):
        forced = teacher_forced(manifest)
        conditions = {
            "recording": lambda u, y: y,
            "recording -> griffin-lim": lambda u, y: vocode(features.mel(u)),
            "tts": spoken,
            "tts, recorded durations": lambda u, y: vocode(forced[u.id]),
        }
        if split == "train":
            conditions = {k: v for k, v in conditions.items() if k.startswith("tts")}
        for name, render in conditions.items():
            rows.append({"split": split, "condition": name, **score(manifest, render)})
            print(format_table(rows[-1:]), flush=True)
    print(format_table(rows, title=f"{args.variant}, {n} sentences x {len(data.speakers)} speakers per split"))
    by = {(row["split"], row["condition"]): row["wer"] for row in rows}
    gap = by["test", "tts"] - by["test", "recording -> griffin-lim"]
    if gap > 0:
        durations_share = (by["test", "tts"] - by["test", "tts, recorded durations"]) / gap
        seen_share = (by["test", "tts"] - by["train", "tts"]) / gap
        print(f"of the WER gap between the TTS and the vocoded recordings ({gap:.3f}), recorded durations close "
              f"{durations_share:.0%} and seen sentences {seen_share:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
