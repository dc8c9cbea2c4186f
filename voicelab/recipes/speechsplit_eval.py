"""Rendering and scoring notebook 05's models: code swaps, CodeGAN's renditions, new voices, the table.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``; ``benchmarks/evaluate_emotion_cloning.py``
imports the same functions. The models come from :mod:`voicelab.recipes.speechsplit`.

- :func:`swap`: decode one clip's words with the rhythm and pitch of another rendition;
- :func:`emotional_rendition`: a neutral clip in an emotion, through CodeGAN, without a
  parallel recording;
- :func:`evaluate`: every system of :data:`SYSTEMS` on the evaluation pairs, scored by
  the judge, f0 against the real recording, MCD, voice and WER;
- :func:`speak_with_voices`: the decoder with new (VoiceGAN) voices;
- :func:`respeak`: any recording's words, rhythm and pitch in another voice (notebook 06's
  ``voicegan`` voices);
- :func:`world_cue_check`: whether a judge hears WORLD's vocoder rather than the emotion.
"""

from __future__ import annotations

import numpy as np

from voicelab.data.manifest import Utterance
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.models.speechsplit import split_and_swap
from voicelab.recipes.speechsplit import EmotionData, SpeechSplitRecipe, check_codegan_rates, pitch_classes


def world_cue_check(judges: dict, data: EmotionData, r: SpeechSplitRecipe) -> list[dict]:
    """How often each judge calls a neutral test clip "neutral", as the engine made it and after one WORLD pass.

    ``data`` is :func:`plain_corpus_data` (raw neutral clips); each is also passed through
    WORLD analysis-synthesis with unchanged parameters. A judge that learned the vocoder
    rather than the emotion calls the second kind emotional.
    """
    from voicelab.data.emotion import STYLES, apply_style
    from voicelab.dsp.features import log_melspectrogram
    from voicelab.models.emotion import classify

    neutral = data.test.filter(emotion="neutral")
    raw = [data.features.audio(u) for u in neutral]
    world = [apply_style(y, sr=r.audio.sr, style=STYLES["neutral"]) for y in raw]
    rows = []
    for name, judge in judges.items():
        row = {"judge": name, "clips": len(raw)}
        for kind, clips in (("as made", raw), ("through WORLD", world)):
            p = classify(judge, [log_melspectrogram(y, config=r.audio) for y in clips])
            row[f"neutral, {kind}"] = round(float(np.mean(p.argmax(1) == judge.config.emotions.index("neutral"))), 3)
        rows.append(row)
    return rows


def emotional_rendition(model, generator, data: EmotionData, utt: Utterance, emotion: str) -> np.ndarray:
    """``utt`` in ``emotion``, in its own voice and length: its rhythm and pitch codes through CodeGAN's
    ``generator``, its content code as it is; the decoded mel."""
    from voicelab.models.codegan import convert_codes
    from voicelab.models.speechsplit import codes_of, decode_codes

    check_codegan_rates(model)
    if emotion not in data.emotions:
        raise ParameterError(f"emotion={emotion!r} is not one of {data.emotions}")
    mel = data.features.mel(utt)
    codes = codes_of(model, mel, pitch_classes(data, utt))
    joined = convert_codes(generator, np.concatenate([codes["rhythm"], codes["pitch"]], axis=-1),
                           emotion=data.emotions.index(emotion))
    codes["rhythm"], codes["pitch"] = joined[:, : model.config.rhythm_dim], joined[:, model.config.rhythm_dim:]
    return decode_codes(model, codes, embedding=data.voices[utt.speaker], n_frames=len(mel))


def same_speaker_similarity(data: EmotionData) -> np.ndarray:
    """Cosine of each training clip's embedding to its own speaker's voice: how far one voice spreads."""
    speaker_of = {u.id: u.speaker for u in data.train}
    return np.array([metrics.cosine_similarity(e, data.voices[speaker_of[i]]) for i, e in data.clip_embeddings.items()])


def swap(model, data: EmotionData, *, content: Utterance, rhythm: Utterance | None = None,
         pitch: Utterance | None = None, voice: str | np.ndarray | None = None) -> np.ndarray:
    """Decode ``content``'s words with the rhythm of ``rhythm`` and the pitch of ``pitch`` (default: its own).

    ``voice`` is a speaker of the corpus or an embedding (default: ``content``'s
    speaker). The output has ``rhythm``'s frames.
    """
    rhythm, pitch = rhythm or content, pitch or content
    if isinstance(voice, str) or voice is None:
        name = content.speaker if voice is None else voice
        if name not in data.voices:
            raise ParameterError(f"voice {name!r} is not a speaker with a voice embedding ({len(data.voices)} known)")
        voice = data.voices[name]
    features = data.features
    return split_and_swap(model, content_mel=features.mel(content), rhythm_mel=features.mel(rhythm),
                          pitch=pitch_classes(data, pitch), embedding=voice)


def respeak(model, y: np.ndarray, *, embedding: np.ndarray, config: AudioConfig) -> np.ndarray:
    """The mel ``[frames, n_mels]`` of recording ``y`` (at ``config.sr``) decoded in the voice ``embedding``.

    A recording from outside the corpus has no speaker statistics: its log-f0 is normalised
    by its own mean and deviation, which keeps the intonation's shape and leaves its level to
    the voice. The words and the rhythm are the recording's own mel.
    """
    from voicelab.dsp.features import f0, log_melspectrogram
    from voicelab.dsp.prosody import normalize_log_f0, quantize_f0

    mel = log_melspectrogram(y, config=config)
    hz, _ = f0(y, config=config)
    n = min(len(mel), len(hz))
    pitch = quantize_f0(normalize_log_f0(hz[:n]))
    return split_and_swap(model, content_mel=mel[:n], rhythm_mel=mel[:n], pitch=pitch, embedding=embedding)


SYSTEMS = ("recording", "vocoded", "reconstruction", "rhythm", "pitch", "rhythm+pitch", "codegan")
"""Rows of the evaluation: the real recording, it through the vocoder, SpeechSplit's reconstruction from
its own codes, the neutral clip with the rhythm, the pitch, or both from the emotional one, and the neutral
clip's own rhythm and pitch codes turned to the emotion by CodeGAN (no emotional recording used)."""


def judge_function(judge, config: AudioConfig = AudioConfig()):
    """``audio -> probabilities``: the emotion classifier on the log-mel of a recording."""
    from voicelab.dsp.features import log_melspectrogram
    from voicelab.models.emotion import classify

    return lambda audio: classify(judge, [log_melspectrogram(audio, config=config)])[0]


def evaluation_pairs(r: SpeechSplitRecipe, data: EmotionData) -> list[tuple[Utterance, Utterance]]:
    """``(neutral, emotional)`` test renditions of one speaker and sentence, every emotion (neutral with itself).

    The first ``r.eval_speakers`` speakers and ``r.n_eval`` test sentences.
    """
    sentences = sorted({u.sentence_id for u in data.test})[: r.n_eval]
    pairs = []
    for speaker in data.speakers[: r.eval_speakers]:
        for sentence in sentences:
            clips = {u.emotion: u for u in data.test.filter(speaker=speaker, sentence_id=sentence)}
            if "neutral" in clips:
                pairs += [(clips["neutral"], clips[e]) for e in data.emotions if e in clips]
    if not pairs:
        raise ParameterError("no neutral test renditions to evaluate")
    return pairs


def renditions(model, data: EmotionData, neutral: Utterance, target: Utterance, *, vocoder, codegan=None,
               systems=SYSTEMS) -> dict[str, np.ndarray]:
    """Audio of each of ``systems`` for one ``(neutral, emotional)`` pair (no swaps or CodeGAN for neutral;
    ``"codegan"`` only with a CodeGAN ``codegan`` generator)."""
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ParameterError(f"systems {sorted(unknown)} are not among {SYSTEMS}")
    if "codegan" in systems and codegan is None:
        raise ParameterError('the "codegan" system needs codegan=<a CodeGAN generator>')
    make = {"recording": lambda: data.features.audio(target),
            "vocoded": lambda: vocoder(data.features.mel(target)),
            "reconstruction": lambda: vocoder(swap(model, data, content=target))}
    if target.emotion != "neutral":
        make |= {"rhythm": lambda: vocoder(swap(model, data, content=neutral, rhythm=target)),
                 "pitch": lambda: vocoder(swap(model, data, content=neutral, pitch=target)),
                 "rhythm+pitch": lambda: vocoder(swap(model, data, content=neutral, rhythm=target, pitch=target)),
                 "codegan": lambda: vocoder(emotional_rendition(model, codegan, data, neutral, target.emotion))}
    return {system: make[system]() for system in systems if system in make}


def evaluate(model, judge, r: SpeechSplitRecipe, data: EmotionData, *, vocoder, transcriber=None, codegan=None,
             systems=None, progress: bool = False, return_audio: bool = False):
    """Each of ``systems`` (default: :data:`SYSTEMS`, less ``"codegan"`` without ``codegan``) on every
    evaluation pair, scored (:func:`voicelab.evaluation.emotion.score_rendition`).

    Returns rows ``{"speaker", "sentence", "emotion", "system", ...}``, and with
    ``return_audio`` also ``{(speaker, sentence, emotion, system): audio}``.
    """
    from voicelab.evaluation.emotion import score_rendition

    if systems is None:
        systems = tuple(s for s in SYSTEMS if s != "codegan" or codegan is not None)
    judge_fn = judge_function(judge, r.audio)
    pairs = evaluation_pairs(r, data)
    if progress:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, desc="rendering and scoring")
    rows, clips, transcripts = [], {}, []
    for neutral, target in pairs:
        source = data.features.audio(neutral)
        made = renditions(model, data, neutral, target, vocoder=vocoder, codegan=codegan, systems=systems)
        for system, audio in made.items():
            scores = score_rendition(audio, target=data.features.audio(target), source=source, text=target.text,
                                     emotion=target.emotion, judge=judge_fn, emotions=data.emotions,
                                     sr=r.audio.sr, config=r.audio)
            key = (target.speaker, target.sentence_id, target.emotion, system)
            rows.append(dict(zip(("speaker", "sentence", "emotion", "system"), key)) | scores)
            if transcriber is not None:   # decoded in the recognizer's processes while the next clips are made
                transcripts.append((rows[-1], target.text, metrics.transcribe_later(transcriber, audio, sr=r.audio.sr)))
            if return_audio:
                clips[key] = audio
    for row, text, transcript in transcripts:
        row["wer"] = metrics.word_error_rate([text], [transcript.result()])
    return (rows, clips) if return_audio else rows


def speak_with_voices(model, r: SpeechSplitRecipe, data: EmotionData, voices: dict[str, np.ndarray], *, vocoder,
                      transcriber) -> tuple[list[dict], dict]:
    """Each neutral evaluation clip re-spoken by the decoder with each voice (a name -> embedding).

    Rows ``{"voice", "source_id", "wer", "sim_to_voice", "sim_to_source"}``: pocketsphinx WER,
    resemblyzer cosine of the speech to the voice it was given and to the clip's own
    speaker (NaN when the output has too little speech to embed). Also returns
    ``{voice: audio of the first clip}``.
    """
    sentences = sorted({u.sentence_id for u in data.test})[: r.n_eval]
    sources = [u for u in data.test.filter(emotion="neutral", sentence_id=sentences)
               if u.speaker in data.speakers[: r.eval_speakers]]
    rows, clips, transcripts = [], {}, []
    for name, vector in voices.items():
        for u in sources:
            audio = vocoder(swap(model, data, content=u, voice=vector))
            transcripts.append((u.text, metrics.transcribe_later(transcriber, audio, sr=r.audio.sr)))
            try:
                spoken = metrics.speaker_embedding(audio, sr=r.audio.sr)
                sims = metrics.cosine_similarity(spoken, vector), metrics.cosine_similarity(spoken, data.voices[u.speaker])
            except ParameterError:         # too little speech to embed: no voice at all
                sims = float("nan"), float("nan")
            rows.append({"voice": name, "source_id": u.id, "wer": None,
                         "sim_to_voice": sims[0], "sim_to_source": sims[1]})
            clips.setdefault(name, audio)
    for row, (text, transcript) in zip(rows, transcripts):
        row["wer"] = metrics.word_error_rate([text], [transcript.result()])
    return rows, clips
