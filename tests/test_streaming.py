"""Streaming recognition (voicelab.streaming): the endpoint rules and the stream, on built signals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voicelab.errors import AudioError, ParameterError
from voicelab.streaming import (KALDI_RULES, SEED_RULES, EndpointRule, Endpointer, EnergyVAD, StreamingRecogniser,
                                WebRtcVAD, stream_file)

SR = 16000


def signal(*parts: tuple[str, float], seed: int = 0) -> np.ndarray:
    """("speech" | "silence", seconds) pieces: speech is loud noise, silence a faint hiss."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 0.2 if kind == "speech" else 1e-4, round(s * SR)).astype(np.float32)
                           for kind, s in parts])


class Fake:
    """A transcriber that says how long the audio it got was, with a fixed relative cost."""

    def __init__(self, cost: float = math.inf) -> None:
        self.cost, self.calls = cost, []

    def __call__(self, audio: np.ndarray) -> tuple[str, float]:
        self.calls.append(len(audio))
        return f"{len(audio) / SR:.2f} s", self.cost


def run(rules, frames, cost=math.inf, frame=0.1):
    e = Endpointer(rules, frame_seconds=frame)
    e.relative_cost = cost
    for i, speech in enumerate(frames):
        rule = e.push(speech)
        if rule:
            return i, rule
    return None


SPOKEN = [True] * 10 + [False] * 60


@pytest.mark.parametrize("cost, frames_of_silence, rule", [
    (1.0, 5, "confident, then 0.5 s of silence"),
    (5.0, 10, "fairly confident, then 1 s of silence"),
    (math.inf, 20, "silence after speech, 2 s"),
])
def test_kaldi_rules_wait_less_the_surer_the_recogniser_is(cost, frames_of_silence, rule):
    assert run(KALDI_RULES, SPOKEN, cost) == (10 + frames_of_silence - 1, rule)


def test_kaldi_rules_end_silence_and_overlong_utterances():
    assert run(KALDI_RULES, [False] * 60) == (49, "nothing said for 5 s")
    assert run(KALDI_RULES, [True] * 300) == (199, "20 s long")
    assert run(SEED_RULES, SPOKEN) == (24, "silence after speech, 1.5 s")
    assert run(SEED_RULES, [False] * 100) is None           # the first version waits for speech


def test_a_stream_finds_each_utterance_with_its_times_and_latency():
    y = signal(("silence", 0.5), ("speech", 1.2), ("silence", 2.5), ("speech", 0.8), ("silence", 3.0))
    fake = Fake()
    heard = stream_file(StreamingRecogniser(fake, sr=SR), y, chunk=0.25)
    assert [h.rule for h in heard] == ["silence after speech, 2 s"] * 2
    # 30 ms frames: a frame that holds speech is speech (0.48-0.51 holds 0.50-0.51)
    assert [(round(h.start, 2), round(h.end, 2)) for h in heard] == [(0.48, 1.71), (4.2, 5.01)]
    for h in heard:
        assert 2.0 <= h.emitted_at - h.end <= 2.0 + 0.03 + 1e-6
        seconds = float(h.text.split()[0])                     # the speech and 0.2 s of padding on both sides
        assert abs(seconds - (h.end - h.start + 0.4)) <= 0.03 + 1e-6


def test_a_confident_recogniser_ends_the_utterance_sooner_and_partials_come_while_speaking():
    y = signal(("speech", 2.0), ("silence", 3.0))
    events = stream_file(StreamingRecogniser(Fake(cost=0.5), sr=SR, partial_every=0.5), y, finals_only=False)
    partials, finals = [e for e in events if not e.final], [e for e in events if e.final]
    assert len(finals) == 1 and finals[0].rule == "confident, then 0.5 s of silence"
    assert 0.5 <= finals[0].emitted_at - finals[0].end < 0.53 + 1e-6
    assert len(partials) >= 3 and all(p.emitted_at <= finals[0].emitted_at for p in partials)


def test_the_first_versions_rule_decides_at_chunk_ends_only():
    y = signal(("speech", 1.0), ("silence", 4.0))
    for chunk in (1.0, 0.5):
        stream = StreamingRecogniser(Fake(), sr=SR, rules=SEED_RULES, decide="chunk", partial_every=None)
        (heard,) = stream_file(stream, y, chunk=chunk)
        latency = heard.emitted_at - heard.end
        assert 1.5 <= latency <= 1.5 + chunk + 1e-6
        assert abs(heard.emitted_at / chunk - round(heard.emitted_at / chunk)) < 1e-6     # at a chunk's end


def test_any_chunk_size_hears_the_same_utterances():
    y = signal(("speech", 0.7), ("silence", 2.4), ("speech", 1.1), ("silence", 2.5), seed=3)
    runs = [[h.to_json() for h in stream_file(StreamingRecogniser(Fake(), sr=SR), y, chunk=chunk)]
            for chunk in (0.03, 0.37, 1.0)]
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == 2


def test_a_chunk_of_silence_says_nothing_and_a_dropped_chunk_is_silence_on_the_clock():
    stream = StreamingRecogniser(Fake(), sr=SR)
    assert stream.feed(np.zeros(SR, np.float32)) == [] and stream.feed(np.zeros(0, np.float32)) == []
    stream.feed(signal(("speech", 1.0)), at=1.0)
    events = stream.feed(signal(("silence", 0.5)), at=4.5)        # 2.5 s dropped: the rule fires inside the gap
    finals = [e for e in events if e.final]
    assert [round(e.end, 2) for e in finals] == [2.01] and 4.0 <= finals[0].emitted_at <= 4.05
    assert math.isclose(stream.seconds, 5.0, abs_tol=0.03)
    with pytest.raises(ParameterError, match="goes back"):
        stream.feed(signal(("silence", 0.5)), at=1.0)


def test_a_stream_that_ends_mid_word_transcribes_what_it_has():
    stream = StreamingRecogniser(Fake(), sr=SR)
    assert [e for e in stream.feed(signal(("silence", 0.3), ("speech", 0.61))) if e.final] == []
    (last,) = stream.close()
    assert last.rule == "end of stream" and last.final and math.isclose(last.end, 0.91, abs_tol=0.03)
    assert stream.close() == []
    with pytest.raises(ParameterError, match="closed"):
        stream.feed(np.zeros(10, np.float32))


def test_both_vads_tell_a_spoken_sentence_from_the_silence_around_it():
    from voicelab.data.speakers import speak

    rng = np.random.default_rng(0)
    y = np.concatenate([np.zeros(SR // 2, np.float32), speak("slt", "call anna tomorrow", sr=SR),
                        np.zeros(SR // 2, np.float32)])
    y = y + rng.normal(0, 1e-3, len(y)).astype(np.float32)
    frames = [y[i: i + 480] for i in range(0, len(y) - 479, 480)]
    for vad in (WebRtcVAD(2, sr=SR), EnergyVAD(-40)):
        said = [vad(f) for f in frames]
        edge = 17                                                    # 0.5 s of 30 ms frames
        assert sum(said[:edge - 1]) <= 4 and sum(said[-edge + 1:]) == 0, type(vad).__name__
        assert sum(said[edge:-edge]) >= 0.7 * len(said[edge:-edge]), type(vad).__name__


@pytest.mark.parametrize("make, error, message", [
    (lambda: WebRtcVAD(4), ParameterError, "aggressiveness"),
    (lambda: WebRtcVAD(2, sr=22050), ParameterError, "22050"),
    (lambda: WebRtcVAD(2)(np.zeros(500, np.float32)), ParameterError, "10, 20 or 30 ms"),
    (lambda: EndpointRule("x", -1.0), ParameterError, "min_trailing_silence"),
    (lambda: Endpointer([], frame_seconds=0.03), ParameterError, "non-empty"),
    (lambda: Endpointer(KALDI_RULES, frame_seconds=0), ParameterError, "frame_seconds"),
    (lambda: EnergyVAD(3), ParameterError, "negative"),
    (lambda: StreamingRecogniser(Fake(), decide="sometimes"), ParameterError, "decide"),
    (lambda: StreamingRecogniser(Fake(), partial_every=0), ParameterError, "partial_every"),
    (lambda: StreamingRecogniser(Fake()).feed(np.zeros((2, 100), np.float32)), ParameterError, "chunk"),
    (lambda: StreamingRecogniser(Fake()).feed(np.full(100, np.nan, np.float32)), AudioError, "chunk"),
    (lambda: stream_file(StreamingRecogniser(Fake()), np.zeros(10, np.float32), chunk=0), ParameterError, "chunk"),
])
def test_bad_input_gets_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()
