"""Objective measures: each judges real corpus speech the way a listener would."""

from __future__ import annotations

import numpy as np
import pytest

from voicelab.dsp.audio import load
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics as evaluate


@pytest.fixture(scope="module")
def clips(smoke_corpus):
    """A neutral utterance, its happy rendition, another sentence by the same speaker,
    and the same sentence by another speaker."""
    neutral = smoke_corpus.filter(emotion="neutral")
    first = neutral[0]
    other_speaker = next(s for s in smoke_corpus.speakers if s != first.speaker)
    same_speaker = [u for u in neutral.filter(speaker=first.speaker) if u.sentence_id != first.sentence_id][0]

    def audio(utt):
        return load(smoke_corpus.audio_path(utt))

    return {
        "utt": first,
        "neutral": audio(first),
        "happy": audio(smoke_corpus.parallel(first, emotion="happy")),
        "same_speaker": audio(same_speaker),
        "other_speaker": audio(smoke_corpus.parallel(first, speaker=other_speaker)),
    }


def test_mcd_is_zero_for_identical_and_larger_across_speakers(clips):
    assert evaluate.mel_cepstral_distortion(clips["neutral"], clips["neutral"], sr=16000) == 0.0
    within = evaluate.mel_cepstral_distortion(clips["neutral"], clips["happy"], sr=16000)
    across = evaluate.mel_cepstral_distortion(clips["neutral"], clips["other_speaker"], sr=16000)
    assert 0 < within < across


def test_word_error_rate_normalises_both_sides():
    assert evaluate.word_error_rate(["Set a timer for 10 minutes."], ["set a timer for ten minutes"]) == 0.0
    assert evaluate.word_error_rate(["call anna now", "stop"], ["call hannah now", "stop"]) == pytest.approx(0.25)
    with pytest.raises(ParameterError, match="2 references but 1 hypotheses"):
        evaluate.word_error_rate(["a b", "c"], ["a b"])
    assert evaluate.word_error_rate(["call anna"], [""]) == 1.0
    with pytest.raises(ParameterError, match="text='\\?!' has no word to speak"):
        evaluate.word_error_rate(["?!"], ["hello"])


def test_recognizer_understands_the_corpus(smoke_corpus):
    # The small pocketsphinx model is an imperfect judge even on real speech (30-45 %
    # WER on the corpus voices); it must still get most words of one voice right.
    judge = evaluate.Transcriber()
    utts = smoke_corpus.filter(speaker="rms", emotion="neutral")[:4]
    heard = [judge(load(smoke_corpus.audio_path(u)), sr=16000) for u in utts]
    assert evaluate.word_error_rate([u.text for u in utts], heard) < 0.5


def test_a_transcript_does_not_depend_on_the_clips_before_it(smoke_corpus):
    # loud and soft clips (one voice in four emotions), decoded forwards, backwards and each by a new recognizer
    utts = [u for u in smoke_corpus if u.sentence_id in {u.sentence_id for u in smoke_corpus[:40]}][:12]
    audio = [load(smoke_corpus.audio_path(u)) for u in utts]
    judge = evaluate.Transcriber()
    forwards = [judge(y, sr=16000) for y in audio]
    backwards = [judge(y, sr=16000) for y in audio[::-1]][::-1]
    alone = [evaluate.Transcriber()(y, sr=16000) for y in audio]
    assert forwards == backwards == alone
    assert sum(map(bool, forwards)) >= 10   # the recognizer heard words in (nearly) every clip


def test_worker_processes_transcribe_as_this_process_does(smoke_corpus):
    utts = smoke_corpus.filter(emotion="neutral")[:6]
    audio = [load(smoke_corpus.audio_path(u)) for u in utts]
    here = [evaluate.Transcriber(workers=1)(y, sr=16000) for y in audio]
    with evaluate.Transcriber(workers=2) as judge:
        pending = [judge.submit(y, sr=16000) for y in audio]
        assert judge._pool is not None and len(judge._pool._processes) == 2
        processes = judge._pool._processes
        assert [p.result(timeout=120) for p in pending] == here
    assert judge._pool is None and all(p.poll() is not None for p in processes)   # closed: no process left
    assert sum(map(bool, here)) >= 5
    # a plain callable is a judge too: its transcript arrives as a finished future
    assert evaluate.transcribe_later(lambda y, sr: f"{len(y)} at {sr}", audio[0], sr=16000).result() == f"{len(audio[0])} at 16000"


def test_a_dropped_transcriber_stops_its_processes(speech):
    judge = evaluate.Transcriber(workers=2)
    assert judge.submit(speech[0], sr=speech[1]).result(timeout=120) == evaluate.Transcriber(workers=1)(speech[0], sr=speech[1])
    processes = judge._pool._processes
    del judge
    import gc

    gc.collect()
    assert all(p.wait(timeout=30) is not None for p in processes)


def test_closing_cancels_the_clips_not_yet_started(speech):
    # an interrupted evaluation closes its transcriber: it must not wait for every queued clip
    judge = evaluate.Transcriber(workers=2)
    pending = [judge.submit(speech[0], sr=speech[1]) for _ in range(12)]   # about 0.5 s of decoding each
    judge.close()
    assert sum(p.cancelled() for p in pending) >= 6
    assert all(isinstance(p.result(), str) for p in pending if not p.cancelled())


def test_a_recognizer_process_that_dies_is_a_clear_error(speech):
    with evaluate.Transcriber(workers=2) as judge:
        assert isinstance(judge.submit(speech[0], sr=speech[1]).result(timeout=120), str)
        for process in judge._pool._processes:
            process.kill()
            process.wait()
        with pytest.raises(RuntimeError, match=r"the recognizer process ended \(exit status -9\)"):
            judge.submit(speech[0], sr=speech[1]).result(timeout=120)


def test_bad_worker_counts_are_clear_errors(monkeypatch):
    with pytest.raises(ParameterError, match="workers=0 must be a whole number of processes"):
        evaluate.Transcriber(workers=0)
    monkeypatch.setenv("VOICELAB_WORKERS", "two")
    with pytest.raises(ParameterError, match="VOICELAB_WORKERS='two'"):
        evaluate.Transcriber()
    monkeypatch.setenv("VOICELAB_WORKERS", "3")
    assert evaluate.Transcriber().workers == 3
    with pytest.raises(ParameterError, match=r"y must be 1-D mono audio"):
        evaluate.Transcriber(workers=2).submit(np.zeros((2, 100)), sr=16000)   # bad audio fails here, not in a worker


def test_speaker_similarity_separates_speakers(clips):
    same = evaluate.speaker_similarity(clips["neutral"], clips["same_speaker"], sr=16000)
    other = evaluate.speaker_similarity(clips["neutral"], clips["other_speaker"], sr=16000)
    assert same > other
    assert -1.0 <= other <= same <= 1.0


def test_pesq_and_stoi_rank_clean_above_noisy(clips, rng):
    clean = clips["neutral"]
    noisy = clean + 0.05 * rng.standard_normal(clean.size).astype(np.float32)
    assert evaluate.pesq_wb(clean, clean, sr=16000) > 4.5
    assert evaluate.pesq_wb(clean, noisy, sr=16000) < 2.5
    assert evaluate.stoi(clean, clean, sr=16000) > 0.99 > evaluate.stoi(clean, noisy, sr=16000)


def test_bad_audio_is_rejected(clips):
    with pytest.raises(ParameterError, match="differ in length by more than 5 %"):
        evaluate.pesq_wb(clips["neutral"], clips["neutral"][:8000], sr=16000)
    with pytest.raises(ParameterError, match="estimate contains NaN"):
        evaluate.stoi(clips["neutral"], np.full_like(clips["neutral"], np.nan), sr=16000)
    with pytest.raises(ParameterError, match=r"y must be 1-D mono audio, got shape \(2, 100\)"):
        evaluate.Transcriber()(np.zeros((2, 100)), sr=16000)
