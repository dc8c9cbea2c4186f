"""Command line: build the corpus, speak, convert a voice, train a shared model, sweep a notebook.

    python -m voicelab corpus --profile quick --out data/corpus-quick
    python -m voicelab corpus --profile quick --world-neutral --derived 36 --out data/corpus-quick-40
    python -m voicelab speak "Call Anna at five." --voice slt --profile quick --out hello.wav
    python -m voicelab speak "I won!" --voice slt --emotion happy --vocoder griffin-lim --out won.wav
    python -m voicelab convert my_voice.wav --to rms --profile quick --out as_rms.wav
    python -m voicelab train vocoder --profile quick
    python -m voicelab sweep notebooks/02_tts_cnn_bilstm.ipynb --profile smoke -p SEED 0 1 --out outputs/sweep
    python -m voicelab synth-data --profile quick --size 5000 --out data/commands-quick --workers 2
    python -m voicelab recognise --profile quick --data-dir data clip1.wav clip2.flac
    python -m voicelab recognise --profile quick --data-dir data --held-to-grammar clip1.wav

``speak`` and ``convert`` use the models notebooks 02 and 04 trained into
``DATA_DIR/models`` (:mod:`voicelab.artifacts`); a missing one is an error that says which
notebook trains it. ``synth-data`` makes a spoken-command dataset (notebook 06,
:mod:`voicelab.recipes.command_data`), on a Dask ``LocalCluster`` or, with ``--scheduler``,
a real cluster; ``recognise`` answers clips with notebook 06's recogniser, one JSON
object a line. ``train`` trains the shared models that need only the corpus (the
registry's ``trainable_alone`` artifacts) without their notebook.

Example
-------
>>> main(["corpus", "--help"])      # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from voicelab.errors import ParameterError, VoicelabError
from voicelab.profiles import PROFILES

VOCODERS = ("kit", "griffin-lim")
"""``--vocoder``: the kit's trained vocoder (notebook 03; Griffin-Lim while none is trained), or Griffin-Lim."""


# ---------------------------------------------------------------------- checks and shared steps
def _check_output(path: str) -> Path:
    """``--out``, checked before any model loads: an audio file name in a folder that exists."""
    import soundfile as sf

    out = Path(path)
    if out.is_dir():
        raise ParameterError(f"--out {out} is a folder: give a file name, e.g. --out {out / 'speech.wav'}")
    if not out.parent.is_dir():
        raise ParameterError(f"--out {out}: the folder {out.parent} does not exist (create it first)")
    if out.suffix[1:].upper() not in sf.available_formats():
        ending = repr(out.suffix) if out.suffix else "no extension"
        raise ParameterError(f"--out {out}: {ending} is not an audio format; end the name in .wav")
    if not os.access(out.parent, os.W_OK):
        raise ParameterError(f"--out {out}: the folder {out.parent} is not writable")
    return out


def _check_choice(flag: str, value: str, choices: list[str], what: str) -> None:
    if value not in choices:
        raise ParameterError(f"{flag} {value!r} is not one of the {what}: {', '.join(choices)}")


def _vocoder(args: argparse.Namespace, config, *, adapted: bool):
    """The ``--vocoder`` asked for; says which one it is."""
    from voicelab import artifacts
    from voicelab.recipes import vocoder
    from voicelab.vocoders import griffin_lim_vocoder

    if args.vocoder == "kit":
        return artifacts.load_vocoder(args.profile, data_dir=args.data_dir, config=config, adapted=adapted)
    iters = vocoder.recipe(args.profile, audio=config).gl_iters
    print(f"vocoder: Griffin-Lim, {iters} iterations")
    return griffin_lim_vocoder(config, n_iter=iters)


def _write(out: Path, audio, *, sr: int, what: str, vocoder) -> None:
    """Write ``audio`` (16-bit PCM for .wav) and say what was written in one line."""
    from voicelab.dsp import audio as vl_audio

    vl_audio.save(out, audio, sr=sr)
    print(f"{out}: {len(audio) / sr:.2f} s of audio, {what}, vocoder {vocoder.__name__}")


# ---------------------------------------------------------------------- commands
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


def _speak(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise ParameterError(f"TEXT={args.text!r} is empty: give the words to speak, e.g. \"Hello there.\"")
    out = _check_output(args.out)
    from voicelab import artifacts
    from voicelab.synthesis import synthesize

    model, speakers, run = artifacts.load_tts(args.profile, data_dir=args.data_dir,
                                              emotions=args.emotion is not None)
    _check_choice("--voice", args.voice, speakers, "speakers of notebook 02's model")
    emotions = list(run.info["config"].get("emotions", ["neutral"]))
    if args.emotion is not None:
        _check_choice("--emotion", args.emotion, emotions, "emotions of notebook 02's emotion model")
    config = model.audio_config
    vocoder = _vocoder(args, config, adapted=True)
    audio, *_ = synthesize(model, args.text, voice=args.voice, config=config, speakers=speakers, vocoder=vocoder,
                           emotion=args.emotion, emotions=emotions)
    what = f"voice {args.voice}" + (f", {args.emotion}" if args.emotion else "")
    _write(out, audio, sr=config.sr, what=what, vocoder=vocoder)
    return 0


def _convert(args: argparse.Namespace) -> int:
    out = _check_output(args.out)
    from voicelab import artifacts
    from voicelab.dsp import audio as vl_audio
    from voicelab.dsp.features import log_melspectrogram
    from voicelab.models.vqvae import convert
    from voicelab.recipes import conversion

    config = conversion.recipe(args.profile).audio
    source = vl_audio.load(args.source, sr=config.sr)           # any format, resampled to the kit's rate
    run = artifacts.load_vqvae(args.profile, data_dir=args.data_dir)
    speakers = list(run.info["config"]["speakers"])
    _check_choice("--to", args.to, speakers, "speakers notebook 04's model was trained on")
    mel = convert(run.model, log_melspectrogram(source, config=config), speaker=speakers.index(args.to))
    vocoder = _vocoder(args, config, adapted=False)
    _write(out, vocoder(mel), sr=config.sr, what=f"{args.source} in voice {args.to}", vocoder=vocoder)
    return 0


def _train(args: argparse.Namespace) -> int:
    from voicelab import artifacts

    started = time.perf_counter()
    run = artifacts.train(args.name, args.profile, data_dir=args.data_dir, retrain=args.retrain)
    elapsed = time.perf_counter() - started
    if run.loaded:
        print(f"{args.name}: already trained in {run.folder} ({run.seconds:.0f} s of training; checked in "
              f"{elapsed:.1f} s); --retrain trains it again")
    else:
        print(f"{args.name}: trained into {run.folder} in {elapsed:.0f} s ({run.info['steps']} steps)")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from voicelab import registry
    from voicelab.sweep import parse_value, sweep, table

    if not Path(args.notebook).is_file():
        listed = ", ".join(f"notebooks/{n.filename}" for n in registry.NOTEBOOKS)
        raise ParameterError(f"notebook {args.notebook}: no such file (the kit's notebooks: {listed})")
    params = {name: [parse_value(v) for v in values] for name, *values in args.param}
    fixed = {name: parse_value(value) for name, value in args.set}
    rows = sweep(args.notebook, params, out=args.out, profile=args.profile, data_dir=args.data_dir, fixed=fixed,
                 plot=args.plot)
    failed = sum(r["status"] == "failed" for r in rows)
    print(f"{len(rows)} runs ({failed} failed): {args.out}/results.md, results.csv, results.png")
    for row in table(rows):
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("notebook", "error") and v != ""))
    return 1 if failed == len(rows) else 0


def _synth_data(args: argparse.Namespace) -> int:
    from voicelab.data.commands import read_grammar
    from voicelab.recipes.command_data import build_dataset, dataset_spec

    grammar = read_grammar(args.grammar) if args.grammar else None
    changes = {name: value for name, value in (("size", args.size), ("seed", args.seed)) if value is not None}
    spec = dataset_spec(args.profile, **changes)
    started = time.perf_counter()
    done_before = (Path(args.out) / "card.md").is_file()
    manifest = build_dataset(args.out, spec, workers=args.workers, scheduler=args.scheduler,
                             data_dir=args.data_dir, grammar=grammar, progress=not args.quiet)
    if done_before:
        print(f"{args.out}: already made ({len(manifest)} clips); nothing to do")
    else:
        seconds = time.perf_counter() - started
        print(f"{len(manifest)} clips ({manifest.hours:.2f} h) in {args.out} in {seconds:.0f} s "
              f"({len(manifest) / seconds:.1f} clips/s); the dataset card: {Path(args.out) / 'card.md'}")
    return 0


def _recognise(args: argparse.Namespace) -> int:
    import json

    from voicelab.artifacts import load_recogniser
    from voicelab.recipes import recogniser

    missing = [path for path in args.files if not Path(path).is_file()]
    if missing:
        raise ParameterError(f"no such audio file: {', '.join(missing)}")
    run = load_recogniser(args.profile, args.model, data_dir=args.data_dir)
    for row in recogniser.recognise(run.model, args.files, held_to_grammar=args.held_to_grammar):
        print(json.dumps(row, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------------- the parser
def _parser() -> argparse.ArgumentParser:
    from voicelab.registry import ARTIFACTS

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

    kit = argparse.ArgumentParser(add_help=False)   # the options of the commands that use the kit's models
    kit.add_argument("--profile", choices=PROFILES, default="quick", help="the models' profile (default: quick)")
    kit.add_argument("--data-dir", default="data", help="DATA_DIR the notebooks trained into (default: data)")
    sound = argparse.ArgumentParser(add_help=False, parents=[kit])
    sound.add_argument("--vocoder", choices=VOCODERS, default="kit",
                       help="kit: notebook 03's trained vocoder (Griffin-Lim while there is none); "
                            "griffin-lim: no neural vocoder (default: kit)")
    sound.add_argument("--out", required=True, help="the audio file to write (.wav: 16-bit PCM)")
    speak = commands.add_parser("speak", parents=[sound], help="text to speech with notebook 02's model")
    speak.add_argument("text", metavar="TEXT", help="English text to speak")
    speak.add_argument("--voice", required=True, help="a speaker of the corpus notebook 02 trained on")
    speak.add_argument("--emotion", default=None, help="speak with notebook 02's emotion model, in this emotion")
    speak.set_defaults(run=_speak)
    convert = commands.add_parser("convert", parents=[sound], help="re-speak a recording in another voice "
                                                                   "with notebook 04's VQ-VAE")
    convert.add_argument("source", metavar="SOURCE", help="the recording (any format soundfile reads, any rate)")
    convert.add_argument("--to", required=True, metavar="SPEAKER", help="a speaker notebook 04 trained on")
    convert.set_defaults(run=_convert)
    train = commands.add_parser("train", parents=[kit], help="train a shared model without its notebook")
    train.add_argument("name", choices=[a.name for a in ARTIFACTS.values() if a.trainable_alone],
                       help="the model (it goes where its notebook loads it from)")
    train.add_argument("--retrain", action="store_true", help="train it again even if it is trained")
    train.set_defaults(run=_train)

    synth = commands.add_parser("synth-data", help="make a spoken-command dataset: grammar, voices, noise, "
                                                   "a manifest and a dataset card (notebook 06)")
    synth.add_argument("--profile", choices=PROFILES, default="quick", help="sizes (default: quick)")
    synth.add_argument("--size", type=int, default=None, help="clips (default: the profile's: 48, 5000, 50000)")
    synth.add_argument("--out", required=True, help="the dataset folder (a finished one is left as it is)")
    synth.add_argument("--workers", type=int, default=None, help="LocalCluster processes (default: one per core)")
    synth.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the shards on the Dask cluster at ADDRESS (tcp://host:8786) instead")
    synth.add_argument("--seed", type=int, default=None, help="sentences, voices and noise (default: 0)")
    synth.add_argument("--data-dir", default="data", help="where notebook 02's TTS is, to speak with it (default: data)")
    synth.add_argument("--grammar", default=None, metavar="FILE.json",
                       help="another command grammar, as voicelab.data.commands.grammar_rules writes it "
                            "(default: the kit's)")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(run=_synth_data)
    recognise = commands.add_parser("recognise", parents=[kit], help="transcript, intent and slots of "
                                                                     "spoken commands (notebook 06's recogniser)")
    recognise.add_argument("files", nargs="+", metavar="FILE", help="audio files (any rate soundfile reads)")
    recognise.add_argument("--model", default="augmented", choices=("augmented", "synthetic", "corpus_voices"),
                           help="which of notebook 06's recognisers (default: augmented)")
    recognise.add_argument("--held-to-grammar", action="store_true",
                           help="answer the grammar's likeliest sentence instead of the best-path transcript")
    recognise.set_defaults(run=_recognise)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``voicelab`` command; returns the exit status (1: an error, printed as ``error: ...``)."""
    args = _parser().parse_args(argv)
    if args.command in ("speak", "convert", "train", "recognise", "synth-data"):     # these load Keras: without its backend's start-up chatter
        from voicelab.ui.session import import_keras

        import_keras()
    try:
        return args.run(args)
    except VoicelabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
