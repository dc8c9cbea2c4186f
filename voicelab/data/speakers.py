"""The corpus's speakers, as data, and the engines that give them a voice.

Three kinds of speaker (:class:`Speaker`, ``engine``):

- ``"flite"``: CMU Flite's voices. ``awb``, ``rms`` and ``slt`` are statistical
  parametric (clustergen) voices trained on real speakers' CMU ARCTIC recordings;
  ``kal16`` is an older diphone voice, robotic but clear. 16 kHz.
- ``"espeak"``: eSpeak NG, a formant synthesizer: robotic, but every voice variant
  (``+f3``, ``+m3``, ...) is a different vocal tract and pitch. 22.05 kHz, resampled to
  16 kHz. Checked here: ``en-gb+<variant>`` ignores the variant (the file is identical
  to ``en-gb``), so the British voice is ``en-gb-x-rp+f4``.
- ``"derived"``: a real flite voice made into another speaker with WORLD: the spectral
  envelope is warped in frequency by ``alpha`` (a vocal tract ``1 / alpha`` times as
  long: ``alpha < 1`` lowers every formant, a bigger, deeper-sounding speaker) and F0
  is scaled by ``f0_scale``. Named ``<base>_vtl<alpha>``, e.g. ``slt_vtl0.9``.

:data:`SPEAKERS` holds the built-in ones; :func:`derived_speakers` draws as many more
derived ones as wanted; :func:`speak` speaks a text with any.
The engines are system programs: ``sudo apt-get install flite espeak-ng``.

Introduced in ``notebooks/01_audio_features.ipynb`` (speakers and emotions compared).

Example
-------
>>> y = speak("slt", "Call Anna.")             # doctest: +SKIP
>>> y.dtype, round(len(y) / 16000, 1)           # doctest: +SKIP
(dtype('float32'), 1.1)
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from voicelab.data.emotion import WorldAnalysis, analyze, lerp, synthesize_world
from voicelab.dsp.audio import load
from voicelab.errors import AudioError, ParameterError

__all__ = [
    "ENGINES", "SPEAKERS", "Speaker", "check_speaker", "derive", "derived_speakers", "engine_version", "get_speaker",
    "speak", "warp_voice",
]

ENGINES = ("flite", "espeak", "derived")
_PROGRAMS = {"flite": "flite", "espeak": "espeak-ng"}
_INSTALL = "sudo apt-get install flite espeak-ng"
_TIMEOUT = 60  # seconds; one sentence takes well under one
ESPEAK_WORDS_PER_MINUTE = 175  # espeak-ng's default speed, which speak(rate=...) scales


@dataclasses.dataclass(frozen=True)
class Speaker:
    """One voice of the corpus.

    Parameters
    ----------
    name : str
        The speaker label in the manifest and the audio folder's name.
    engine : {"flite", "espeak", "derived"}
        What speaks.
    voice : str
        flite's ``-voice`` (``"slt"``), espeak-ng's ``-v`` (``"en-us+f3"``), or for a
        derived speaker the name of the built-in speaker it is made from.
    gender : {"female", "male"}
        As the voice sounds (derived speakers: as warped).
    description : str
        One line for the corpus README.
    alpha : float
        Derived speakers: the frequency-warping factor of the spectral envelope
        (formants move to ``alpha`` times their frequency).
    f0_scale : float
        Derived speakers: the factor applied to F0.
    """

    name: str
    engine: str
    voice: str
    gender: str
    description: str
    alpha: float = 1.0
    f0_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ParameterError(f"engine={self.engine!r} is not one of {', '.join(ENGINES)}")
        if not self.name or not all(c.isalnum() or c in "_.-" for c in self.name):
            raise ParameterError(f"name={self.name!r} must be letters, digits, '_', '.', '-' (it names a folder)")
        if not (0.5 <= self.alpha <= 2 and 0.25 <= self.f0_scale <= 4):
            raise ParameterError(f"alpha={self.alpha} must be in [0.5, 2] and f0_scale={self.f0_scale} in [0.25, 4]")
        if self.engine != "derived" and (self.alpha, self.f0_scale) != (1.0, 1.0):
            raise ParameterError(f"speaker {self.name!r}: alpha and f0_scale are for derived speakers only")

    @property
    def source(self) -> str:
        """Where the audio comes from, as the manifest's ``source`` says it."""
        if self.engine == "derived":
            return f"world:vtl{self.alpha:g},f0x{self.f0_scale:g}<-{get_speaker(self.voice).source}"
        return f"{_PROGRAMS[self.engine]}:{self.voice}"


def _flite(name: str, gender: str, description: str) -> Speaker:
    return Speaker(name, "flite", name, gender, description)


def _derived(base: str, alpha: float, f0_scale: float, gender: str, description: str) -> Speaker:
    return Speaker(f"{base}_vtl{alpha:g}", "derived", base, gender, description, alpha, f0_scale)


SPEAKERS: dict[str, Speaker] = {
    s.name: s
    for s in (
        _flite("awb", "male", "flite clustergen voice of a Scottish English male (CMU ARCTIC awb)"),
        _flite("rms", "male", "flite clustergen voice of an American English male (CMU ARCTIC rms)"),
        _flite("slt", "female", "flite clustergen voice of an American English female (CMU ARCTIC slt)"),
        _flite("kal16", "male", "flite diphone voice of an American English male (kal, 16 kHz): robotic"),
        Speaker("espeak_f3", "espeak", "en-us+f3", "female", "eSpeak NG formant voice, American English, variant f3"),
        Speaker("espeak_m3", "espeak", "en-us+m3", "male", "eSpeak NG formant voice, American English, variant m3"),
        Speaker("espeak_rp_f4", "espeak", "en-gb-x-rp+f4", "female",
                "eSpeak NG formant voice, British English (RP), variant f4"),
        _derived("slt", 0.9, 0.75, "male", "slt with formants 10 % lower and F0 x0.75 (~130 Hz): a deeper voice"),
        _derived("rms", 1.15, 1.6, "female", "rms with formants 15 % higher and F0 x1.6 (~155 Hz): a lighter voice"),
        _derived("awb", 1.1, 1.4, "female", "awb with formants 10 % higher and F0 x1.4 (~175 Hz)"),
    )
}
"""The built-in speakers by name."""
FLITE_SPEAKERS = ("awb", "rms", "slt", "kal16")

UNSEEN_VOICES = (
    Speaker("espeak_m7", "espeak", "en-us+m7", "male", "eSpeak NG formant voice, American English, variant m7"),
    Speaker("espeak_f2", "espeak", "en-us+f2", "female", "eSpeak NG formant voice, American English, variant f2"),
)
"""Voices of no corpus of any profile (eSpeak NG variants the built-in speakers do not use):
what a model of the kit is tested on when it should speak, or listen to, any voice."""

DERIVED_ALPHA = (0.85, 1.2)
"""Range of :func:`derived_speakers`' envelope warp ``alpha`` (drawn uniformly)."""
DERIVED_F0_SCALE = (0.7, 1.6)
"""Range of :func:`derived_speakers`' F0 factor (drawn uniformly on a log scale)."""
GENDER_SHIFT = 1.3
"""F0 factor from which :func:`derived_speakers` hears the other gender (see there)."""


def derived_speakers(n: int, *, seed: int = 0, bases: tuple[str, ...] = ("awb", "rms", "slt")) -> list[Speaker]:
    """``n`` distinct derived speakers drawn at random from the flite voices.

    Speaker ``i`` is made from ``bases[i % len(bases)]`` with an envelope warp ``alpha``
    drawn uniformly in :data:`DERIVED_ALPHA` and an F0 factor drawn log-uniformly in
    :data:`DERIVED_F0_SCALE` (both rounded to 3 decimals), and is named
    ``v<i>_<base>`` (``v07_slt``). The draws are made speaker by speaker, so the first
    ``k`` of ``derived_speakers(n)`` are ``derived_speakers(k)`` with the same seed.

    Gender: the base's, unless F0 moved by :data:`GENDER_SHIFT` (about 4.5 semitones)
    or more towards the other one: a male base with ``f0_scale >= 1.3`` is female, a
    female base with ``f0_scale <= 1 / 1.3`` is male. Typical male and female speaking
    F0 (about 120 and 210 Hz) differ by a factor of about 1.7, so 1.3 is about halfway
    on a log scale; the built-in derived speakers follow the same rule.

    Parameters
    ----------
    n : int
        How many speakers (``>= 1``).
    seed : int
        Chooses the warps; the same seed gives the same speakers.
    bases : tuple of str
        Built-in, non-derived speakers to derive from, used in turn.

    Raises
    ------
    ParameterError
        ``n`` or ``seed`` is not a positive (non-negative) integer, or a base is unknown
        or itself derived.

    Example
    -------
    >>> voices = derived_speakers(4, seed=0)
    >>> [v.name for v in voices]
    ['v00_awb', 'v01_rms', 'v02_slt', 'v03_awb']
    >>> all(0.85 <= v.alpha <= 1.2 and 0.7 <= v.f0_scale <= 1.6 for v in voices)
    True
    >>> derived_speakers(2, seed=0) == voices[:2]
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")
    base_speakers = [get_speaker(b) for b in bases]
    if not base_speakers or any(b.engine == "derived" for b in base_speakers):
        raise ParameterError(f"bases={bases!r} must name built-in speakers that are not derived")
    rng = np.random.default_rng(seed)
    log_f0 = np.log(DERIVED_F0_SCALE)
    voices = []
    for i in range(n):
        base = base_speakers[i % len(base_speakers)]
        alpha = round(float(rng.uniform(*DERIVED_ALPHA)), 3)
        f0_scale = round(float(np.exp(rng.uniform(*log_f0))), 3)
        description = f"{base.name} warped: formants x{alpha:g} (vocal tract x{1 / alpha:.2f}), F0 x{f0_scale:g}"
        voices.append(Speaker(f"v{i:02d}_{base.name}", "derived", base.name, _derived_gender(base.gender, f0_scale),
                              description, alpha, f0_scale))
    return voices


def _derived_gender(base_gender: str, f0_scale: float) -> str:
    if base_gender == "male" and f0_scale >= GENDER_SHIFT:
        return "female"
    if base_gender == "female" and f0_scale <= 1 / GENDER_SHIFT:
        return "male"
    return base_gender


def get_speaker(speaker: Speaker | str) -> Speaker:
    """``speaker`` itself, or the built-in speaker of that name."""
    if isinstance(speaker, Speaker):
        return speaker
    try:
        return SPEAKERS[speaker]
    except (KeyError, TypeError):
        raise ParameterError(f"speaker={speaker!r} is not one of {', '.join(SPEAKERS)}") from None


def _program(engine: str) -> str:
    program = shutil.which(_PROGRAMS[engine])
    if program is None:
        raise AudioError(f"{_PROGRAMS[engine]} is not installed (needed for the {engine} speakers): {_INSTALL}")
    return program


@functools.lru_cache(maxsize=None)
def engine_version(engine: str) -> str:
    """The version of the program behind ``engine`` ("flite" or "espeak"), e.g. ``"1.51"``."""
    out = subprocess.run([_program(engine), "--version"], capture_output=True, text=True, timeout=_TIMEOUT).stdout
    found = re.search(r"\d+\.\d+[\w.-]*", out)
    return found[0] if found else out.strip()


@functools.lru_cache(maxsize=None)
def _flite_voices() -> tuple[str, ...]:
    out = subprocess.run([_program("flite"), "-lv"], capture_output=True, text=True, timeout=_TIMEOUT)
    return tuple(out.stdout.split(":", 1)[-1].split())


def check_speaker(speaker: Speaker | str) -> Speaker:
    """Check that ``speaker``'s engine is installed and knows its voice; return it.

    flite must be asked: given a voice it does not have, it silently speaks with its
    default voice instead. espeak-ng is tried on one word.

    Raises
    ------
    AudioError
        The program is missing (the message says what to install) or lacks the voice.
    """
    speaker = get_speaker(speaker)
    if speaker.engine == "derived":
        base = get_speaker(speaker.voice)
        if base.engine == "derived":
            raise ParameterError(f"speaker {speaker.name!r} derives from {base.name!r}, itself derived")
        check_speaker(base)
    elif speaker.engine == "flite":
        if speaker.voice not in _flite_voices():
            raise AudioError(f"flite has no voice {speaker.voice!r} (it has {', '.join(_flite_voices())})")
    else:
        _run_engine(speaker, "test")
    return speaker


def _run_engine(speaker: Speaker, text: str, *, sr: int = 16000, rate: float = 1.0) -> np.ndarray:
    """Speak ``text`` with a flite or espeak-ng voice; float32 audio at ``sr``; ``rate`` > 1 is faster."""
    with tempfile.TemporaryDirectory(prefix="voicelab-tts-") as tmp:
        text_file, wav = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
        # The text goes through a file: no shell, no length limit, and a text that
        # starts with "-" cannot be taken for an option.
        text_file.write_text(text + "\n", encoding="utf-8")
        if speaker.engine == "flite":
            cmd = [_program("flite"), "-voice", speaker.voice, "-f", str(text_file), "-o", str(wav)]
            if rate != 1.0:
                cmd += ["--setf", f"duration_stretch={1 / rate:.4f}"]
        else:
            cmd = [_program("espeak"), "-v", speaker.voice, "-b", "1", "-w", str(wav), "-f", str(text_file)]
            if rate != 1.0:
                cmd += ["-s", str(round(ESPEAK_WORDS_PER_MINUTE * rate))]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AudioError(f"{' '.join(cmd)} took over {_TIMEOUT} s (text: {text!r})") from None
        if done.returncode != 0 or not wav.is_file():
            raise AudioError(
                f"{' '.join(cmd)} failed with exit code {done.returncode} (text: {text!r}): "
                f"{done.stderr.strip() or done.stdout.strip() or 'no output'}"
            )
        return load(wav, sr=sr)  # espeak-ng's 22.05 kHz resampled here


def warp_voice(analysis: WorldAnalysis, *, alpha: float, f0_scale: float) -> WorldAnalysis:
    """Another speaker from WORLD parameters: envelope warped by ``alpha``, F0 scaled.

    The new envelope at frequency ``f`` is the old one at ``f / alpha`` (interpolated on
    a log scale), so a formant at ``F`` moves to ``alpha * F``: the acoustic effect of a
    vocal tract ``1 / alpha`` times as long. Above the old Nyquist frequency the last
    bin is repeated.

    Example
    -------
    >>> import numpy as np
    >>> from voicelab.data.emotion import WorldAnalysis
    >>> sp = np.tile(np.exp(-((np.arange(513) - 100) / 10.0) ** 2) + 1e-6, (2, 1))  # a peak at bin 100
    >>> a = WorldAnalysis(f0=np.array([100.0, 0.0]), sp=sp, ap=np.zeros_like(sp), sr=16000)
    >>> b = warp_voice(a, alpha=0.9, f0_scale=0.8)
    >>> int(b.sp[0].argmax()), b.f0.tolist()
    (90, [80.0, 0.0])
    """
    source = np.arange(analysis.sp.shape[1]) / alpha  # the old bin each new bin reads
    sp = np.exp(lerp(np.log(analysis.sp), source, axis=1))
    ap = lerp(analysis.ap, source, axis=1)
    return analysis.replace(f0=analysis.f0 * f0_scale, sp=sp, ap=ap)


def speak(speaker: Speaker | str, text: str, *, sr: int = 16000, rate: float = 1.0) -> np.ndarray:
    """Speak ``text`` with ``speaker``; float32 mono ``[samples]`` at ``sr``.

    ``rate`` > 1 speaks faster (flite's ``duration_stretch``, espeak-ng's words per
    minute), in [0.5, 2].

    flite and espeak-ng are run as programs (no shell; a temporary folder); a derived
    speaker is its base voice warped by :func:`warp_voice`. The engines read the text as
    given (numbers, abbreviations), so give them :func:`voicelab.text.normalize_text`'s
    output when the words must match a phoneme transcription, as the corpus does.

    Raises
    ------
    AudioError
        The engine is missing (the message says what to install), fails (the message
        shows the command and its error output), or WORLD fails.

    Example
    -------
    >>> y = speak("slt_vtl0.9", "Call Anna.")      # doctest: +SKIP
    """
    speaker = get_speaker(speaker)
    if not 0.5 <= rate <= 2:
        raise ParameterError(f"rate={rate} must be in [0.5, 2]")
    if speaker.engine == "derived":
        return derive(speak(speaker.voice, text, sr=sr, rate=rate), sr=sr, speaker=speaker)[0]
    return _run_engine(speaker, text, sr=sr, rate=rate)


def derive(y: np.ndarray, *, sr: int, speaker: Speaker) -> tuple[np.ndarray, WorldAnalysis]:
    """Make ``y``, spoken by a derived speaker's base voice, into ``speaker``'s voice.

    Returns the new audio and its WORLD parameters (from which emotional styles can be
    made without a second analysis).
    """
    analysis = warp_voice(analyze(y, sr=sr), alpha=speaker.alpha, f0_scale=speaker.f0_scale)
    return synthesize_world(analysis), analysis
