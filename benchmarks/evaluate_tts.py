"""Score the trained TTS models of notebooks/02_tts_cnn_bilstm.ipynb on the test split.

Loads ``DATA_DIR/models/tts-<profile>-<voice>.keras`` (speaker-id and reference-encoder
models, whichever exist), synthesises the neutral test sentences of every speaker with
Griffin-Lim, and prints per speaker: mel cepstral distortion against the recording,
pocketsphinx WER on the synthetic speech and on the recordings and their ratio, and the
resemblyzer speaker similarity. The last line holds the headline averages.

    python benchmarks/evaluate_tts.py --profile quick --data-dir data
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--sentences", type=int, default=None,
                        help="test sentences per speaker (default: all)")
    parser.add_argument("--n-iter", type=int, default=48, help="Griffin-Lim iterations")
    parser.add_argument("--voices", nargs="+", default=["speaker", "reference"],
                        choices=("speaker", "reference"))
    args = parser.parse_args(argv)

    from voicelab import evaluate, synthesis
    from voicelab.data import read_manifest

    corpus_dir = args.data_dir / f"corpus-{args.profile}"
    corpus = read_manifest(corpus_dir / "manifest.jsonl")
    neutral = corpus.filter(emotion="neutral")
    test = neutral.filter(split="test")
    sentence_ids = sorted({u.sentence_id for u in test})[: args.sentences]
    test = test.filter(sentence_id=sentence_ids)
    judge, transcripts = evaluate.Transcriber(), {}
    headline = []
    for voice in args.voices:
        path = args.data_dir / "models" / f"tts-{args.profile}-{voice}.keras"
        if not path.exists():
            print(f"{path}: no trained model (run notebooks/02_tts_cnn_bilstm.ipynb with PROFILE={args.profile!r})",
                  file=sys.stderr)
            continue
        model, info = synthesis.load_tts(path)
        speakers = info["speakers"]
        references = {s: corpus.audio_path(neutral.filter(speaker=s, split="train")[0]) for s in speakers}
        started = time.perf_counter()
        results = synthesis.evaluate_voices(model, test, speakers=speakers, references=references,
                                            config=model.audio_config, n_iter=args.n_iter, transcriber=judge,
                                            truth_transcripts=transcripts)
        print(synthesis.format_results(
            results, title=f"{voice} model ({path.name}, trained {info['epochs']} epochs in {info['seconds']:.0f} s); "
                           f"{len(sentence_ids)} test sentences per speaker, {time.perf_counter() - started:.0f} s"))
        print()
        mean = {k: float(np.mean([r[k] for r in results.values()]))
                for k in ("mcd", "wer_synth", "wer_truth", "similarity")}
        mean["wer_ratio"] = mean["wer_synth"] / mean["wer_truth"] if mean["wer_truth"] > 0 else float("inf")
        headline.append((voice, mean))
    if not headline:
        return 1
    print("headline: " + "; ".join(
        f"{voice}: MCD {h['mcd']:.2f} dB, WER {h['wer_synth']:.2f} vs {h['wer_truth']:.2f} on recordings "
        f"(ratio {h['wer_ratio']:.2f}), similarity {h['similarity']:.3f}" for voice, h in headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
