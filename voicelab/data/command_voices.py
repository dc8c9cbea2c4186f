"""The voices of a spoken-command dataset: who says each sentence, and how.

Introduced in ``notebooks/06_spoken_command_data.ipynb``. A dataset's voices come from
four engines, and the manifest records each clip's voice with its parameters:

- ``flite``: CMU's four built-in voices (awb, rms, slt, kal16, the ordinary corpus's
  speakers), each at three speaking rates;
- ``espeak``: eSpeak NG's formant synthesizer in five English accents and six voice
  variants, each voice with its own rate;
- ``world``: flite voices with their vocal tract and F0 warped by WORLD
  (:func:`voicelab.data.speakers.derived_speakers`);
- ``kit-tts``: notebook 02's TTS model and the kit's vocoder, in the corpus's speakers,
  at three speeds, and in every emotion where notebook 02's emotion model is trained;
- ``voicegan``: voices no one has, drawn from notebook 05's VoiceGAN, where it is trained:
  a flite voice's sentence re-spoken by notebook 05's SpeechSplit decoder in the drawn
  voice, and the kit's vocoder (:data:`VOICEGAN_VOICES` of them).

The ``test_voices`` split is spoken by voices *and engines* that training never hears:
eSpeak NG's Klatt synthesizer (``espeak-klatt``, another way of making a voice), accents
no training voice has (Caribbean, Scottish, West Midlands) and WORLD voices with other
warps.

Example
-------
>>> pool = voice_pool(seed=0)
>>> sorted({v.engine for v in pool.train}), sorted({v.engine for v in pool.held_out})
(['espeak', 'flite', 'world'], ['espeak-klatt', 'espeak-unseen-accent', 'world'])
>>> pool.train[0].name, pool.train[0].params()["rate"]
('flite-awb-r0.9', 0.9)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from voicelab.data.speakers import FLITE_SPEAKERS, Speaker, derived_speakers, get_speaker, speak
from voicelab.errors import ParameterError

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan")
ESPEAK_VARIANTS = ("m1", "m3", "m5", "f1", "f3", "f4")
HELD_OUT_ESPEAK = (("espeak-klatt", "en-us+klatt"), ("espeak-klatt", "en-us+klatt2"),
                   ("espeak-klatt", "en-gb+klatt3"), ("espeak-klatt", "en-us+klatt4"),
                   ("espeak-unseen-accent", "en-029+m2"), ("espeak-unseen-accent", "en-gb-scotland+f2"),
                   ("espeak-unseen-accent", "en-gb-x-gbcwmd+m4"))
FLITE_RATES = (0.9, 1.0, 1.1)
TTS_SPEEDS = (0.9, 1.0, 1.15)
ENGINE_SHARES = {"flite": 0.25, "espeak": 0.35, "world": 0.2, "kit-tts": 0.2, "voicegan": 0.1}
"""How often each training engine speaks a sentence (renormalised over the engines present)."""
VOICEGAN_VOICES = 8
"""VoiceGAN voices of a dataset: ``sample_voices(generator, 8, seed=0)``, each one over a flite voice."""
MODEL_ENGINES = ("kit-tts", "voicegan")
"""Engines that speak through the kit's trained models (:data:`KitSpeaker`), not a program."""


@dataclasses.dataclass(frozen=True)
class Voice:
    """One voice of a command dataset.

    Attributes
    ----------
    name : str
        Unique; the manifest's ``speaker`` (``"espeak-en-gb+f3"``, ``"kit-tts-slt-happy"``).
    engine : str
        ``flite``, ``espeak``, ``world``, ``kit-tts``, ``voicegan``; held out:
        ``espeak-klatt``, ``espeak-unseen-accent``, ``world``.
    speaker : Speaker or None
        The system voice (flite, espeak-ng, WORLD-derived; for ``voicegan`` the flite voice
        whose words, rhythm and pitch are re-spoken); ``None`` for ``kit-tts``.
    tts_speaker : str
        ``kit-tts``: the TTS model's speaker.
    generated : int
        ``voicegan``: which of the :data:`VOICEGAN_VOICES` drawn voices speaks; else -1.
    rate : float
        Speaking rate (> 1 faster).
    emotion : str
        ``kit-tts`` with the emotion model: the emotion; else ``"neutral"``.
    held_out : bool
        Speaks only the ``test_voices`` split.
    """

    name: str
    engine: str
    speaker: Speaker | None = None
    tts_speaker: str = ""
    rate: float = 1.0
    emotion: str = "neutral"
    held_out: bool = False
    generated: int = -1

    def params(self) -> dict:
        """What the manifest records about the voice (JSON values)."""
        out = {"engine": self.engine, "rate": self.rate, "emotion": self.emotion}
        if self.engine == "voicegan":
            out.update(voice=self.speaker.voice, source=f"voicegan:{self.generated}<-{self.speaker.source}",
                       generated=self.generated)
        elif self.speaker is not None:
            out.update(voice=self.speaker.voice, source=self.speaker.source, alpha=self.speaker.alpha,
                       f0_scale=self.speaker.f0_scale, gender=self.speaker.gender)
        else:
            out.update(voice=self.tts_speaker, source="kit-tts")
        return out


@dataclasses.dataclass(frozen=True)
class VoicePool:
    """The training voices and the held-out ones (the ``test_voices`` split's)."""

    train: tuple[Voice, ...]
    held_out: tuple[Voice, ...]
    engine_shares: Mapping[str, float]

    def by_name(self, name: str) -> Voice:
        for voice in self.train + self.held_out:
            if voice.name == name:
                return voice
        raise ParameterError(f"no voice {name!r} in the pool")

    def _engine_probabilities(self, held_out: bool) -> tuple[list[str], np.ndarray]:
        """The engines of the training (or held-out) voices, sorted, and the probability of each."""
        engines = sorted({v.engine for v in (self.held_out if held_out else self.train)})
        weights = np.array([self.engine_shares.get(e, 1.0) if not held_out else 1.0 for e in engines], float)
        return engines, weights / weights.sum()

    def draw(self, rng: np.random.Generator, *, held_out: bool = False) -> Voice:
        """A voice: its engine by :attr:`engine_shares`, then a voice of that engine, uniformly."""
        voices = self.held_out if held_out else self.train
        engines, p = self._engine_probabilities(held_out)
        engine = engines[rng.choice(len(engines), p=p)]
        of_engine = [v for v in voices if v.engine == engine]
        return of_engine[rng.integers(len(of_engine))]

    def only(self, engines) -> VoicePool:
        """The pool with only these training engines (the held-out voices kept)."""
        kept = tuple(v for v in self.train if v.engine in engines)
        if not kept:
            present = sorted({v.engine for v in self.train})
            raise ParameterError(f"engines={tuple(engines)!r}: no such training voices (the engines: {present})")
        return VoicePool(kept, self.held_out, {e: w for e, w in self.engine_shares.items() if e in engines})

    def shares(self) -> dict[str, float]:
        """Each training engine's share of the sentences: :attr:`engine_shares` renormalised over the
        engines present (what :meth:`draw` does).

        >>> {e: round(s, 2) for e, s in voice_pool(seed=0).shares().items()}
        {'flite': 0.31, 'espeak': 0.44, 'world': 0.25}
        """
        engines, p = self._engine_probabilities(held_out=False)
        share = dict(zip(engines, p.tolist()))
        return {e: share[e] for e in sorted(engines, key=list(ENGINE_SHARES).index)}

    def summary(self) -> dict[str, int]:
        """Number of voices by engine, held-out engines prefixed ``test:``."""
        counts: dict[str, int] = {}
        for v in self.train:
            counts[v.engine] = counts.get(v.engine, 0) + 1
        for v in self.held_out:
            counts[f"test:{v.engine}"] = counts.get(f"test:{v.engine}", 0) + 1
        return counts


def voice_pool(*, seed: int = 0, n_world: int = 8, tts_speakers: Sequence[str] = (),
               tts_emotions: Sequence[str] = (), voicegan: bool = False) -> VoicePool:
    """The voices of a dataset made with ``seed``.

    ``tts_speakers`` (the TTS model's speakers, where notebook 02 has trained it) add
    ``kit-tts`` voices at :data:`TTS_SPEEDS`, and ``tts_emotions`` (the emotion model's)
    one voice per speaker and emotion. Without them the pool has no ``kit-tts`` engine
    and the other engines share its turn. ``voicegan`` (where notebook 05 has trained
    VoiceGAN and SpeechSplit) adds :data:`VOICEGAN_VOICES` ``voicegan`` voices, each over
    a flite voice in turn.
    """
    rng = np.random.default_rng([seed, 6])
    train: list[Voice] = [Voice(f"flite-{name}-r{rate:g}", "flite", get_speaker(name), rate=rate)
                          for name in FLITE_SPEAKERS for rate in FLITE_RATES]
    for accent in ESPEAK_ACCENTS:
        for variant in ESPEAK_VARIANTS:
            spec = f"{accent}+{variant}"
            speaker = Speaker(f"espeak_{accent}_{variant}", "espeak", spec, "female" if variant[0] == "f" else "male",
                              f"eSpeak NG {accent}, variant {variant}")
            train.append(Voice(f"espeak-{spec}", "espeak", speaker, rate=round(float(rng.uniform(0.85, 1.2)), 2)))
    train += [Voice(f"world-{s.name}", "world", s) for s in derived_speakers(n_world, seed=seed)]
    for name in tts_speakers:
        train += [Voice(f"kit-tts-{name}-r{speed:g}", "kit-tts", tts_speaker=name, rate=speed) for speed in TTS_SPEEDS]
        train += [Voice(f"kit-tts-{name}-{emotion}", "kit-tts", tts_speaker=name, emotion=emotion)
                  for emotion in tts_emotions if emotion != "neutral"]
    if voicegan:
        for i in range(VOICEGAN_VOICES):
            base = FLITE_SPEAKERS[i % len(FLITE_SPEAKERS)]
            train.append(Voice(f"voicegan-{i}-{base}", "voicegan", get_speaker(base), generated=i))
    held_out = [Voice(f"{engine}-{spec}", engine,
                      Speaker(f"espeak_{spec.replace('+', '_')}", "espeak", spec, "male", f"eSpeak NG {spec}"),
                      rate=round(float(rng.uniform(0.85, 1.2)), 2), held_out=True)
                for engine, spec in HELD_OUT_ESPEAK]
    held_out += [Voice(f"world-held-{s.name}", "world", dataclasses.replace(s, name=f"held_{s.name}"), held_out=True)
                 for s in derived_speakers(3, seed=seed + 1000, bases=("slt", "rms", "awb"))]
    present = {v.engine for v in train}
    return VoicePool(tuple(train), tuple(held_out), {e: w for e, w in ENGINE_SHARES.items() if e in present})


# ------------------------------------------------------------------ speaking
KitSpeaker = Callable[[Voice, str, int], np.ndarray]
"""``(voice, text, sr) -> audio``: how a ``kit-tts`` or ``voicegan`` voice speaks (the recipe's
:func:`voicelab.recipes.command_data.kit_speaker`: notebook 02's or 05's models and the kit's vocoder)."""


def render(voice: Voice, text: str, *, sr: int = 16000, kit: KitSpeaker | None = None) -> np.ndarray:
    """``text`` spoken by ``voice``: float32 mono at ``sr``.

    System voices run their program (:func:`voicelab.data.speakers.speak`); a ``kit-tts``
    or ``voicegan`` voice speaks through ``kit``.
    """
    if voice.engine not in MODEL_ENGINES:
        return speak(voice.speaker, text, sr=sr, rate=voice.rate)
    if kit is None:
        raise ParameterError(f"voice {voice.name!r} speaks through the kit's models ({voice.engine}): pass kit= "
                             "(voicelab.recipes.command_data.kit_speaker)")
    return kit(voice, text, sr)
