"""Benchmark: voicelab's Griffin-Lim and mel inversion against librosa's, in one run.

    python benchmarks/griffin_lim.py [--corpus DIR] [--n-utts 16] [--n-iter 32] [--rounds 3]

Utterances: the neutral utterances of the corpus in ``--corpus`` (default
``data/corpus-smoke``, built there with the ``smoke`` profile if absent), whole ones
concatenated into clips of 3.5-4.5 s; with ``--flite``, or if no corpus can be had,
16 sentences spoken by ``flite -voice slt``.

Every method reconstructs every clip from its STFT magnitude (or its mel spectrogram)
with the same settings (``AudioConfig()``: 16 kHz, ``n_fft=1024``, hop 256, Hann
1024, momentum 0.99, same random initial phase). Methods are timed in interleaved
rounds and the median round is reported, because other jobs may share the cores; the
ratios within one run are what to compare; ``cpu s/utt`` (CPU time of all threads) is
the steadier measure of work on a shared machine. SC is the spectral convergence of the
re-analysed output against the clip's true magnitude, averaged over the clips (lower is
better). The "plain loop" rows are the lesson's intermediate steps (see the docstring of
``voicelab.dsp.griffin_lim``). librosa's ``mel_to_audio`` is timed as the two calls it makes,
``mel_to_stft`` then ``griffinlim``, because it takes no seed for its initial phase. The
last line states both speed-ups.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.fft
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import librosa  # noqa: E402

from voicelab.dsp import features  # noqa: E402
from voicelab.dsp import griffin_lim as gl  # noqa: E402
from voicelab.dsp.features import AudioConfig  # noqa: E402
from voicelab.profiles import default_workers  # noqa: E402

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore every summer morning.",
    "A large fawn jumped quickly over white zinc boxes in the yard.",
    "We watched the sunset from the top of the old stone tower.",
    "Please call Stella and ask her to bring these things with her.",
    "The birch canoe slid on the smooth planks of the wooden dock.",
    "Glue the sheet to the dark blue background before it dries.",
    "It is easy to tell the depth of a well by dropping a stone.",
    "These days a chicken leg is a rare dish in the city market.",
    "Rice is often served in round bowls with a cup of green tea.",
    "The juice of lemons makes fine punch for a hot afternoon.",
    "The box was thrown beside the parked truck in the long alley.",
    "The hogs were fed chopped corn and garbage every single day.",
    "Four hours of steady work faced us before the storm arrived.",
    "A large size in stockings is hard to sell in a small shop.",
    "The boy was there when the sun rose over the quiet valley.",
]


# --------------------------------------------------------------------- utterances


def corpus_clips(folder: Path, n_utts: int, sr: int) -> list[np.ndarray]:
    """Neutral corpus utterances, whole ones joined into clips of 3.5-4.5 s."""
    from voicelab.data import build_corpus, read_manifest

    manifest_path = folder / "manifest.jsonl"
    if manifest_path.exists():
        manifest = read_manifest(manifest_path)
    else:
        print(f"building the smoke corpus in {folder} (once) ...", flush=True)
        manifest = build_corpus(folder, profile="smoke", seed=0)
    utts = list(manifest.filter(emotion="neutral")) or list(manifest)
    clips, current = [], []
    for utt in utts:
        if utt.sr != sr:
            continue
        y, _ = sf.read(manifest.audio_path(utt), dtype="float32")
        current.append(y)
        if sum(map(len, current)) >= 3.5 * sr:
            clips.append(np.concatenate(current)[: int(4.5 * sr)])
            current = []
        if len(clips) == n_utts:
            return clips
    raise RuntimeError(f"the corpus in {folder} has audio for only {len(clips)} clips of ~4 s")


def flite_clips(n_utts: int, sr: int) -> list[np.ndarray]:
    """``flite -voice slt`` speaking the built-in sentences (16 kHz)."""
    if shutil.which("flite") is None:
        raise RuntimeError("flite is not installed (scripts/install_system_deps.sh installs it)")
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_utts):
            wav = Path(tmp) / f"{i}.wav"
            text = SENTENCES[i % len(SENTENCES)]
            subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(wav)], check=True)
            y, file_sr = sf.read(wav, dtype="float32")
            if file_sr != sr:
                raise RuntimeError(f"flite wrote {file_sr} Hz, expected {sr}")
            clips.append(y)
    return clips


# ------------------------------------------------------- a plain loop, for the lesson


def plain_griffin_lim(S, *, config, n_iter, momentum, seed, fft):
    """The textbook loop in numpy, complex64, no numba: what float32 and the FFT alone give.

    Framing by a strided view, overlap-add by reshaping (``n_fft`` a multiple of the
    hop), window-sum computed once; ``fft`` is ``numpy.fft`` or ``scipy.fft``.
    """
    n_fft, hop = config.n_fft, config.hop_length
    n_frames, reps = len(S), n_fft // hop
    window = features.hann_window(config).astype(np.float32)
    length = (n_frames - 1) * hop
    keep = slice(n_fft // 2, n_fft // 2 + length)
    wsum = np.zeros((n_frames + reps - 1, hop), np.float32)
    for j in range(reps):
        wsum[j:j + n_frames] += window[j * hop:(j + 1) * hop] ** 2
    inv_wsum = 1.0 / wsum.ravel()[keep]

    def istft(spectrum):
        frames = fft.irfft(spectrum, n=n_fft, axis=-1) * window
        y = np.zeros((n_frames + reps - 1, hop), np.float32)
        for j in range(reps):
            y[j:j + n_frames] += frames[:, j * hop:(j + 1) * hop]
        return y.ravel()[keep] * inv_wsum

    def stft(y):
        padded = np.pad(y, n_fft // 2)
        frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
        return fft.rfft(frames * window, axis=-1)

    phase = 2 * np.pi * np.random.RandomState(seed).random(S.T.shape).T
    angles = np.exp(1j * phase).astype(np.complex64)
    previous = None
    for _ in range(n_iter):
        rebuilt = stft(istft(S * angles))
        angles = rebuilt if previous is None else rebuilt - (momentum / (1 + momentum)) * previous
        angles = angles / (np.abs(angles) + np.finfo(np.float32).tiny)   # not in place: keeps rebuilt
        previous = rebuilt
    return istft(S * angles)


# ------------------------------------------------------------------------- harness


def run_rounds(methods: dict, rounds: int) -> tuple[dict, dict]:
    """Time each method in interleaved rounds: (wall seconds, CPU seconds, last output)."""
    times = {name: [] for name in methods}
    cpu = {name: [] for name in methods}
    outputs = {}
    for r in range(rounds):
        for name, (fn, n_rounds) in methods.items():
            if r < n_rounds:
                start, start_cpu = time.perf_counter(), time.process_time()
                outputs[name] = fn()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return times, cpu, outputs


def mean_sc(outputs, mags, config) -> float:
    """Mean spectral convergence of each output (cut to its clip's length) against its clip."""
    return float(np.mean([
        gl.spectral_convergence_from_audio(y[:(len(S) - 1) * config.hop_length], S, config=config)
        for y, S in zip(outputs, mags)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus-smoke",
                        help="corpus folder (built with the smoke profile if absent)")
    parser.add_argument("--flite", action="store_true", help="use flite sentences, not the corpus")
    parser.add_argument("--n-utts", type=int, default=16)
    parser.add_argument("--n-iter", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (median reported)")
    parser.add_argument("--mel-rounds", type=int, default=1,
                        help="rounds for librosa's mel_to_audio (its NNLS takes seconds per clip)")
    parser.add_argument("--workers", type=int, default=None,
                        help="voicelab threads (default: $VOICELAB_WORKERS, else all cores)")
    args = parser.parse_args(argv)

    config = AudioConfig()
    hop, n_iter, seed = config.hop_length, args.n_iter, 0
    source = "flite slt"
    if not args.flite:
        try:
            clips = corpus_clips(args.corpus, args.n_utts, config.sr)
            source = f"corpus {args.corpus}"
        except Exception as err:  # noqa: BLE001 - any failure: fall back, and say why
            print(f"no corpus clips ({type(err).__name__}: {err}); using flite", file=sys.stderr)
            clips = flite_clips(args.n_utts, config.sr)
    else:
        clips = flite_clips(args.n_utts, config.sr)
    mags = [features.magnitude(y, config=config) for y in clips]            # [frames, n_freqs]
    mels = [features.melspectrogram(y, config=config) for y in clips]       # [frames, n_mels]
    lengths = [(len(S) - 1) * hop for S in mags]                            # librosa's istft length
    batch = np.zeros((len(mags), max(map(len, mags)), config.n_freqs), np.float32)
    mel_batch = np.zeros((len(mags), batch.shape[1], config.n_mels), np.float32)
    for b, (S, M) in enumerate(zip(mags, mels)):
        batch[b, :len(S)], mel_batch[b, :len(M)] = S, M
    threads = args.workers or default_workers()
    n = len(clips)
    seconds = [len(y) / config.sr for y in clips]

    # numba: the first call compiles (or loads the on-disk cache); not part of the timing
    start = time.perf_counter()
    gl.griffin_lim(batch[0, :8], n_iter=2, return_convergence=True)
    warmup = time.perf_counter() - start
    misses = sum(sum(kernel.stats.cache_misses.values())
                 for kernel in (gl._overlap_add, gl._accelerated_phase, gl._squared_error))

    lib_kw = dict(n_fft=config.n_fft, hop_length=hop, win_length=config.win_length)
    mel_kw = dict(sr=config.sr, n_fft=config.n_fft, fmin=config.fmin, fmax=config.fmax, power=1.0)
    plain = functools.partial(plain_griffin_lim, config=config, n_iter=n_iter, momentum=0.99, seed=seed)
    ours = f"batch of {n}, {threads} threads"
    gl_methods = {   # name: (function, rounds)
        "librosa.griffinlim": (lambda: [
            librosa.griffinlim(S.T, n_iter=n_iter, random_state=seed, **lib_kw) for S in mags], args.rounds),
        "plain loop, numpy.fft, complex64": (lambda: [plain(S, fft=np.fft) for S in mags], args.rounds),
        "plain loop, scipy.fft, complex64": (lambda: [plain(S, fft=scipy.fft) for S in mags], args.rounds),
        "voicelab, one clip at a time, 1 thread": (lambda: [
            gl.griffin_lim(S, n_iter=n_iter, seed=seed, workers=1) for S in mags], args.rounds),
        f"voicelab, {ours}": (lambda: list(gl.griffin_lim(
            batch, n_iter=n_iter, seed=seed, lengths=lengths, workers=threads)), args.rounds),
    }
    lin_methods = {
        "librosa mel_to_stft (NNLS)": (lambda: [
            librosa.feature.inverse.mel_to_stft(M.T, **mel_kw).T for M in mels], args.mel_rounds),
        "voicelab mel_to_linear (pinv + clip)": (lambda: list(gl.mel_to_linear(mel_batch)), args.rounds),
    }
    mel_methods = {
        # mel_to_audio is these two calls; it takes no seed, so it is spelled out to start
        # from the same initial phase as every other method
        "librosa mel_to_audio (mel_to_stft + griffinlim)": (lambda: [librosa.griffinlim(
            librosa.feature.inverse.mel_to_stft(M.T, **mel_kw), n_iter=n_iter, random_state=seed,
            **lib_kw) for M in mels], args.mel_rounds),
        f"voicelab mel_to_audio, {ours}": (lambda: list(gl.mel_to_audio(
            mel_batch, n_iter=n_iter, seed=seed, lengths=lengths, workers=threads)), args.rounds),
    }
    print(f"{n} clips of {min(seconds):.1f}-{max(seconds):.1f} s from {source}; n_iter={n_iter}, "
          f"n_fft={config.n_fft}, hop={hop}, win={config.win_length} hann; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; seconds per clip: median of "
          f"{args.rounds} rounds ({args.mel_rounds} for librosa's mel inversion)", flush=True)
    # librosa's first call imports scipy.signal and compiles its own numba code: warm every
    # method up on a few frames first
    librosa.griffinlim(mags[0][:20].T, n_iter=2, **lib_kw)
    librosa.feature.inverse.mel_to_audio(mels[0][:20].T, n_iter=2, hop_length=hop, **mel_kw)
    plain(mags[0][:20], fft=np.fft)
    gl.mel_to_audio(mel_batch[:2, :20], n_iter=2, workers=threads)

    rounds = max(args.rounds, args.mel_rounds)
    gl_sc = report("Griffin-Lim", gl_methods, rounds, lambda out: mean_sc(out, mags, config))
    report("mel -> linear magnitude (SC: of the magnitude itself, against the true one)", lin_methods,
           rounds, lambda out: float(np.mean([gl.spectral_convergence(S, L[:len(S)])
                                              for S, L in zip(mags, out)])))
    mel_sc = report("mel -> audio", mel_methods, rounds, lambda out: mean_sc(out, mags, config))

    what = "compiled and cached" if misses else "loaded from numba's cache"
    print(f"\nnumba kernels {what} in {warmup:.2f} s, before timing (the first run on a machine "
          "compiles, later runs load the cache)")
    (gl_ratio, ours_gl, lib_gl), (mel_ratio, ours_mel, lib_mel) = gl_sc, mel_sc
    print(f"griffin_lim speed-up {gl_ratio:.1f}x (SC {ours_gl:.4f} vs {lib_gl:.4f}); "
          f"mel_to_audio speed-up {mel_ratio:.0f}x (SC {ours_mel:.4f} vs {lib_mel:.4f})")
    return 0


def report(title: str, methods: dict, rounds: int, score) -> tuple[float, float, float]:
    """Run, time and score ``methods``; print a table whose first row is the baseline.

    Returns (speed-up of the last row over the first, last row's score, first row's score).
    """
    times, cpu, outputs = run_rounds(methods, rounds)
    print(f"\n{title}")
    print(f"{'method':<48} {'s/utt':>8} {'vs librosa':>11} {'SC':>8} {'cpu s/utt':>10}")
    n = len(next(iter(outputs.values())))
    per_utt = {name: float(np.median(t)) / n for name, t in times.items()}
    scores = {name: score(out) for name, out in outputs.items()}
    first, last = list(methods)[0], list(methods)[-1]
    for name in methods:
        print(f"{name:<48} {per_utt[name]:>8.4f} {per_utt[first] / per_utt[name]:>10.2f}x "
              f"{scores[name]:>8.4f} {float(np.median(cpu[name])) / n:>10.4f}")
    return per_utt[first] / per_utt[last], scores[last], scores[first]


if __name__ == "__main__":
    sys.exit(main())
