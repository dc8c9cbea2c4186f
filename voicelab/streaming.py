"""Streaming recognition: when has the speaker finished? Voice activity, endpoint rules, a stream.

Groundwork of notebook 07 (streaming recognition with endpointing, still to come) and of
the conversation with notebook 08's face: both will feed a :class:`StreamingRecogniser`.

A recogniser that listens as you speak reads audio in chunks and must decide, without
seeing the future, that an utterance has ended: too early and it cuts a sentence at a
pause, too late and the user waits. Two designs are taught:

- :data:`SEED_RULES`, the simple rule a first version uses: read about a second at a time
  and, once 1.5 s of silence follows speech, transcribe the buffer (decided at chunk ends);
- :data:`KALDI_RULES`, Kaldi's endpoint rules (``OnlineEndpointConfig``), decided at every
  frame: the silence it waits for is shorter when the recogniser already holds a confident
  final hypothesis (a small *relative cost*), longer when it does not, and an utterance
  longer than a limit ends anyway.

Everything here is plain Python and NumPy: a frame's speech decision comes from any VAD
(``is_speech(frame) -> bool``; :class:`EnergyVAD` is the kit's rule, webrtcvad and silero-vad
fit the same call), and the transcriber is any ``audio -> (text, relative_cost)``.

Example
-------
>>> e = Endpointer(KALDI_RULES, frame_seconds=0.1)
>>> fired = [e.push(s) for s in [False] * 3 + [True] * 10 + [False] * 25]
>>> next((i, r) for i, r in enumerate(fired) if r)     # no confident hypothesis: 2 s of silence
(32, 'silence after speech, 2 s')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from voicelab.errors import ParameterError


# ------------------------------------------------------------------ the rules
@dataclasses.dataclass(frozen=True)
class EndpointRule:
    """One endpoint rule: the utterance ends when every one of its conditions holds.

    Attributes
    ----------
    name : str
        What the rule says, for the events and the notebook's tables.
    min_trailing_silence : float
        Seconds of silence since the last speech frame (or since the start, with no speech).
    must_contain_speech : bool
        The utterance must hold at least one speech frame.
    max_relative_cost : float
        The recogniser's best final hypothesis must cost at most this much more than its
        best hypothesis overall (0: the grammar's sentence *is* the best path); ``inf``: any.
    min_utterance_length : float
        Seconds since the utterance started.
    """

    name: str
    min_trailing_silence: float
    must_contain_speech: bool = True
    max_relative_cost: float = math.inf
    min_utterance_length: float = 0.0

    def __post_init__(self) -> None:
        for field in ("min_trailing_silence", "min_utterance_length", "max_relative_cost"):
            value = getattr(self, field)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0):
                raise ParameterError(f"EndpointRule {self.name!r}: {field}={value!r} must be a number >= 0")

    def holds(self, *, trailing_silence: float, utterance: float, contains_speech: bool,
              relative_cost: float) -> bool:
        return (trailing_silence >= self.min_trailing_silence - 1e-9 and utterance >= self.min_utterance_length - 1e-9
                and (contains_speech or not self.must_contain_speech) and relative_cost <= self.max_relative_cost)


KALDI_RULES = (
    EndpointRule("nothing said for 5 s", 5.0, must_contain_speech=False),
    EndpointRule("confident, then 0.5 s of silence", 0.5, max_relative_cost=2.0),
    EndpointRule("fairly confident, then 1 s of silence", 1.0, max_relative_cost=8.0),
    EndpointRule("silence after speech, 2 s", 2.0),
    EndpointRule("20 s long", 0.0, must_contain_speech=False, min_utterance_length=20.0),
)
"""Kaldi's default endpoint rules (``src/online2/online-endpoint.h``), in its order."""

SEED_RULES = (EndpointRule("silence after speech, 1.5 s", 1.5),)
"""The first version's rule: 1.5 s of silence after speech, decided at chunk ends
(``StreamingRecogniser(decide="chunk")``)."""


class Endpointer:
    """The endpoint state of one utterance, advanced one VAD frame at a time.

    ``push(speech)`` adds a frame and returns the name of the first rule that holds, or
    ``None`` (a rule that holds keeps holding until ``reset()``, which starts the next
    utterance); ``relative_cost`` is the recogniser's latest (``inf`` until it has one).
    """

    def __init__(self, rules: Sequence[EndpointRule] = KALDI_RULES, *, frame_seconds: float = 0.03) -> None:
        if not rules or not all(isinstance(r, EndpointRule) for r in rules):
            raise ParameterError(f"rules must be a non-empty sequence of EndpointRule, got {rules!r}")
        if not (isinstance(frame_seconds, (int, float)) and 0 < frame_seconds <= 1):
            raise ParameterError(f"frame_seconds={frame_seconds!r} must be in (0, 1]")
        self.rules, self.frame_seconds = tuple(rules), float(frame_seconds)
        self.reset()

    def reset(self) -> None:
        self.frames = self.silent_frames = 0
        self.contains_speech = False
        self.relative_cost = math.inf

    @property
    def utterance(self) -> float:
        return self.frames * self.frame_seconds

    @property
    def trailing_silence(self) -> float:
        return self.silent_frames * self.frame_seconds

    def push(self, speech: bool) -> str | None:
        self.frames += 1
        if speech:
            self.contains_speech, self.silent_frames = True, 0
        else:
            self.silent_frames += 1
        return self.check()

    def check(self) -> str | None:
        """The first rule that holds now, or ``None``."""
        for rule in self.rules:
            if rule.holds(trailing_silence=self.trailing_silence, utterance=self.utterance,
                          contains_speech=self.contains_speech, relative_cost=self.relative_cost):
                return rule.name
        return None


# ------------------------------------------------------------------ voice activity
class EnergyVAD:
    """The kit's voice-activity rule: a frame is speech when its RMS level is above ``threshold_db`` dBFS.

    A fixed level, not one relative to the recording's loudest frame: a stream has no
    loudest frame yet. Noise louder than the threshold counts as speech, which is what
    a learned VAD (silero-vad, webrtcvad) is for.

    >>> vad = EnergyVAD(-40)
    >>> vad(np.full(480, 0.1, np.float32)), vad(np.full(480, 0.001, np.float32))
    (True, False)
    """

    def __init__(self, threshold_db: float = -40.0) -> None:
        if not (isinstance(threshold_db, (int, float)) and not isinstance(threshold_db, bool) and threshold_db < 0):
            raise ParameterError(f"threshold_db={threshold_db!r} must be a negative level in dBFS")
        self.threshold_db = float(threshold_db)

    def __call__(self, frame: np.ndarray) -> bool:
        rms = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) if len(frame) else 0.0
        return 20 * math.log10(max(rms, 1e-10)) > self.threshold_db


# ------------------------------------------------------------------ the stream
@dataclasses.dataclass(frozen=True)
class Heard:
    """What the stream says about one utterance.

    ``start``, ``end``: seconds of the stream where its speech began and ended (VAD frames);
    ``emitted_at``: seconds of audio consumed when this was said (the endpoint latency is
    ``emitted_at - end``); ``final``: an endpointed transcript (``rule`` says which rule
    ended it, ``"end of stream"`` at :meth:`StreamingRecogniser.close`), else a partial one.
    """

    start: float
    end: float
    emitted_at: float
    text: str
    final: bool
    rule: str | None = None

    def to_json(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "emitted_at": round(self.emitted_at, 3),
                "text": self.text, **({"rule": self.rule} if self.final else {"partial": True})}


Transcriber = Callable[[np.ndarray], tuple[str, float]]
"""``audio -> (text, relative_cost)``: the recogniser behind a stream (``relative_cost`` ``inf`` when unsure)."""


class StreamingRecogniser:
    """Audio in chunks of any size in, :class:`Heard` events out.

    Parameters
    ----------
    transcribe : callable
        ``audio [samples] -> (text, relative_cost)`` at ``sr``.
    sr : int
    vad : callable, optional
        ``frame -> bool``; default :class:`EnergyVAD`.
    rules : sequence of EndpointRule
        :data:`KALDI_RULES` (default) or :data:`SEED_RULES`.
    frame_seconds : float
        The VAD's frame (30 ms: one of webrtcvad's).
    decide : {"frame", "chunk"}
        Check the rules after every frame, or only at the end of each chunk fed (the first
        version's design, whose latency grows with the chunk).
    partial_every : float or None
        Seconds of speech between partial transcripts, counted from its first frame (which also give the rules their
        relative cost); ``None``: none, and only the rules that need no cost can fire early.
    padding : float
        Seconds of audio kept before the first speech frame and after the last one, so
        that the transcriber hears the word edges the VAD missed.

    ``feed(chunk, at=seconds)`` says where the chunk starts: a gap since the last chunk (a
    chunk dropped on the way) counts as silence, so the stream's clock stays the
    recording's. :meth:`close` ends the stream and transcribes what is left.
    """

    def __init__(self, transcribe: Transcriber, *, sr: int = 16000, vad: Callable[[np.ndarray], bool] | None = None,
                 rules: Sequence[EndpointRule] = KALDI_RULES, frame_seconds: float = 0.03, decide: str = "frame",
                 partial_every: float | None = 0.5, padding: float = 0.2) -> None:
        from voicelab.dsp.audio import check_sr

        if decide not in ("frame", "chunk"):
            raise ParameterError(f"decide={decide!r} must be 'frame' or 'chunk'")
        if partial_every is not None and not (isinstance(partial_every, (int, float)) and partial_every > 0):
            raise ParameterError(f"partial_every={partial_every!r} must be a positive number of seconds or None")
        if not (isinstance(padding, (int, float)) and 0 <= padding <= 2):
            raise ParameterError(f"padding={padding!r} must be in [0, 2] seconds")
        self.sr = check_sr(sr)
        self.transcribe, self.vad = transcribe, vad or EnergyVAD()
        self.endpointer = Endpointer(rules, frame_seconds=frame_seconds)
        self.frame = max(1, round(frame_seconds * self.sr))
        self.decide, self.partial_every = decide, partial_every
        self.padding = round(padding * self.sr)
        self.consumed = 0                      # samples of the stream's clock, gaps included
        self.closed = False
        self._pending = np.zeros(0, np.float32)
        self._new_utterance()

    def _new_utterance(self) -> None:
        self.endpointer.reset()
        self._audio: list[np.ndarray] = []      # the utterance's frames (zeros for a gap), pre-roll included
        self._audio_start = self.consumed       # the stream sample of self._audio's first sample
        self._speech: tuple[int, int] | None = None
        self._next_partial = self.partial_every

    @property
    def seconds(self) -> float:
        """Seconds of the stream consumed (gaps included)."""
        return self.consumed / self.sr

    # -------------------------------------------------------------- feeding
    def feed(self, chunk: np.ndarray, *, at: float | None = None) -> list[Heard]:
        """Add ``chunk`` (float mono at ``sr``; ``at``: its start in seconds, default right after the last)."""
        from voicelab.dsp.audio import check_audio

        if self.closed:
            raise ParameterError("this stream is closed: start a new StreamingRecogniser")
        chunk = check_audio(np.asarray(chunk, np.float32), name="chunk") if len(np.ravel(chunk)) else \
            np.zeros(0, np.float32)
        events: list[Heard] = []
        if at is not None:
            start = round(float(at) * self.sr)
            expected = self.consumed + len(self._pending)
            if start < expected - self.frame:
                raise ParameterError(f"at={at} s goes back in the stream (it is at {expected / self.sr:.3f} s)")
            gap = max(0, start - expected)
            if gap:                                              # a dropped chunk: silence on the clock
                self._pending = np.concatenate([self._pending, np.zeros(gap, np.float32)])
        self._pending = np.concatenate([self._pending, chunk])
        while len(self._pending) >= self.frame:
            frame, self._pending = self._pending[: self.frame], self._pending[self.frame:]
            events += self._push(frame, decide=self.decide == "frame")
        if self.decide == "chunk":
            events += self._endpoint(self.endpointer.check())
        return events

    def close(self) -> list[Heard]:
        """End the stream: the last utterance (cut mid-word or not) is transcribed, rule ``"end of stream"``."""
        if self.closed:
            return []
        events = []
        if len(self._pending):
            events += self._push(np.pad(self._pending, (0, self.frame - len(self._pending))), decide=False)
            self._pending = np.zeros(0, np.float32)
        events += self._endpoint("end of stream")
        self.closed = True
        return events

    # -------------------------------------------------------------- one frame
    def _push(self, frame: np.ndarray, *, decide: bool) -> list[Heard]:
        speech = bool(self.vad(frame))
        start = self.consumed
        self.consumed += len(frame)
        self._audio.append(frame)
        if speech:
            self._speech = (start if self._speech is None else self._speech[0], self.consumed)
        elif self._speech is None:                    # before any speech: keep only the pre-roll
            self._trim_front()
        rule = self.endpointer.push(speech)
        events = []
        if self._speech is not None and self.partial_every is not None and \
                (self.consumed - self._speech[0]) / self.sr >= self._next_partial - 1e-9:   # seconds since speech began
            self._next_partial += self.partial_every
            text, cost = self.transcribe(self._utterance_audio())
            self.endpointer.relative_cost = float(cost)
            events.append(self._heard(text, final=False))
            rule = self.endpointer.check()                 # the new cost may end it now
        if decide:
            events += self._endpoint(rule)
        return events

    def _trim_front(self) -> None:
        kept, total = [], 0
        for frame in reversed(self._audio):
            if total >= self.padding:
                break
            kept.append(frame)
            total += len(frame)
        self._audio = kept[::-1]
        self._audio_start = self.consumed - total

    def _utterance_audio(self) -> np.ndarray:
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.float32)
        end = self._speech[1] - self._audio_start + self.padding if self._speech else len(audio)
        return audio[: max(0, end)]

    def _heard(self, text: str, *, final: bool, rule: str | None = None) -> Heard:
        start, end = self._speech
        return Heard(start / self.sr, end / self.sr, self.seconds, text, final, rule)

    def _endpoint(self, rule: str | None) -> list[Heard]:
        if rule is None:
            return []
        events = []
        if self._speech is not None:
            text, _ = self.transcribe(self._utterance_audio())
            events.append(self._heard(text, final=True, rule=rule))
        self._new_utterance()
        return events


def stream_file(recogniser: StreamingRecogniser, y: np.ndarray, *, chunk: float = 1.0,
                finals_only: bool = True) -> list[Heard]:
    """Feed ``y`` to ``recogniser`` in chunks of ``chunk`` seconds, close it, and return what it heard."""
    if not (isinstance(chunk, (int, float)) and chunk > 0):
        raise ParameterError(f"chunk={chunk!r} must be a positive number of seconds")
    step = max(1, round(chunk * recogniser.sr))
    events: list[Heard] = []
    for i in range(0, len(y), step):
        events += recogniser.feed(y[i: i + step])
    events += recogniser.close()
    return [e for e in events if e.final or not finals_only]




class WebRtcVAD:
    """webrtcvad's voice-activity detector (the WebRTC project's, from ``webrtcvad-wheels``) as ``frame -> bool``.

    ``aggressiveness`` 0 (keeps the most frames as speech) to 3 (drops the most); frames
    of 10, 20 or 30 ms at 8, 16, 32 or 48 kHz, as webrtcvad takes them.
    """

    def __init__(self, aggressiveness: int = 2, *, sr: int = 16000) -> None:
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3) or isinstance(aggressiveness, bool):
            raise ParameterError(f"aggressiveness={aggressiveness!r} must be 0, 1, 2 or 3")
        if sr not in (8000, 16000, 32000, 48000):
            raise ParameterError(f"sr={sr!r}: webrtcvad takes 8000, 16000, 32000 or 48000 Hz")
        self.sr, self._vad = sr, webrtcvad.Vad(aggressiveness)

    def __call__(self, frame: np.ndarray) -> bool:
        if len(frame) * 1000 not in (10 * self.sr, 20 * self.sr, 30 * self.sr):
            raise ParameterError(f"a frame of {len(frame)} samples at {self.sr} Hz: webrtcvad takes 10, 20 or 30 ms")
        pcm = (np.clip(frame, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return bool(self._vad.is_speech(pcm, self.sr))
