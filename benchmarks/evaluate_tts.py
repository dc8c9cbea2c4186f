"""Score the trained TTS models of notebooks/02_tts_cnn_bilstm.ipynb on the test split.

Loads ``DATA_DIR/models/tts-<voice>-<profile>/`` (speaker-id and reference-encoder
models, whichever exist), synthesises the neutral test sentences of every speaker
(Griffin-Lim, the kit's vocoder with ``--vocoder kit``, or the kit's vocoder adapted to
notebook 02's mels with ``--vocoder kit-adapted``), and prints per speaker: mel
cepstral distortion against the recording, pocketsphinx WER on the synthetic speech and
on the recordings and their ratio, and the resemblyzer speaker similarity. The recipe
(``voicelab.recipes.tts``) is the notebook's, so are the sentences and the figures. The
last line holds the headline averages. ``--held-out`` scores the sentences of
``voicelab.data.sentences_data.HELD_OUT`` instead (text unlike the corpus's, spoken by
the same flite voices; ``--sentences`` of them, default the recipe's ``n_held_out``).

    python benchmarks/evaluate_tts.py --profile quick --data-dir data
    python benchmarks/evaluate_tts.py --profile quick --held-out --sentences 30
    python benchmarks/evaluate_tts.py --profile quick --sentences 15 --voices speaker --vocoder kit-adapted
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    parser.add_argument("--data-dir", default="data", type=Path)
    parser.add_argument("--sentences", type=int, default=None,
                        help="test sentences per speaker (default: the recipe's n_eval, as the notebook)")
    parser.add_argument("--vocoder", default="griffin-lim", choices=("griffin-lim", "kit", "kit-adapted"),
                        help="Griffin-Lim (the recipe's iterations), the kit's vocoder (notebook 03's) or the "
                             "kit's vocoder adapted to notebook 02's mels (notebook 03, section 12)")
    parser.add_argument("--held-out", action="store_true",
                        help="score the HELD_OUT sentences (in no corpus) instead of the test split")
    parser.add_argument("--voices", nargs="+", default=["speaker", "reference"],
                        choices=("speaker", "reference"))
    args = parser.parse_args(argv)

    from voicelab.artifacts import how_to_make, load_tts, load_vocoder
    from voicelab.data import corpus_folder, read_manifest
    from voicelab.evaluation import metrics
    from voicelab.evaluation.tts import format_results, results_table
    from voicelab.recipes import tts
    from voicelab.train import is_trained

    r = tts.recipe(args.profile)
    if args.held_out and args.sentences:
        r = r.with_changes(n_held_out=args.sentences)
    corpus = read_manifest(corpus_folder(args.data_dir, args.profile) / "manifest.jsonl")
    neutral = corpus.filter(emotion="neutral")
    test, train = neutral.filter(split="test"), neutral.filter(split="train")
    vocoder = (load_vocoder(args.profile, data_dir=args.data_dir, adapted=args.vocoder == "kit-adapted")
               if args.vocoder != "griffin-lim" else None)
    judge, transcripts, headline = metrics.Transcriber(), {}, []
    for voice in args.voices:
        folder = r.run_folder(voice, args.data_dir)
        if not is_trained(folder):
            print(f"{voice}: no trained model in {folder}: {how_to_make('tts', args.profile)}", file=sys.stderr)
            continue
        model, speakers, run = load_tts(args.profile, voice, data_dir=args.data_dir)
        sentences = tts.held_out_set(r, speakers, data_dir=args.data_dir) if args.held_out else test
        n = r.n_held_out if args.held_out else args.sentences or r.n_eval
        references = {s: corpus.audio_path(train.filter(speaker=s)[0]) for s in speakers}
        started = time.perf_counter()
        results = tts.evaluate(r, {voice: model}, test=sentences, speakers=speakers, references=references,
                               vocoder=vocoder, n_eval=n, transcriber=judge, truth_transcripts=transcripts)[voice]
        which = "held-out" if args.held_out else "test"
        print(format_results(results, title=f"{voice} model ({run.folder.name}, {run.info['epochs']} epochs in "
                                            f"{run.seconds:.0f} s); {n} {which} sentences per speaker, "
                                            f"{args.vocoder}, {time.perf_counter() - started:.0f} s"))
        print()
        headline.append((voice, results_table(results)[-1]))
    if not headline:
        return 1
    print("headline: " + "; ".join(
        f"{voice}: MCD {h['mcd']:.2f} dB, WER {h['wer_synth']:.2f} vs {h['wer_truth']:.2f} on recordings "
        f"(ratio {h['wer_ratio']:.2f}), similarity {h['similarity']:.3f}" for voice, h in headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
