"""Notebook 02's chain on a dataset in LJSpeech's layout, read by ``read_ljspeech``.

Aligner -> durations -> TTS training -> synthesis, with one speaker and 22.05 kHz
files (resampled to the kit's 16 kHz), as a student pointing the notebook at
``LJSpeech-1.1`` would run it. The clips are the smoke corpus's ``slt`` recordings.
"""

from __future__ import annotations

import keras
import numpy as np
import soundfile as sf

from voicelab import synthesis
from voicelab.data import SpeechBatches, read_ljspeech
from voicelab.data.durations import DurationBatches
from voicelab.dsp import audio
from voicelab.dsp.features import AudioConfig
from voicelab.models.align import AlignerConfig, build_aligner, durations_by_id
from voicelab.models.tts import TTSConfig, build_tts


def test_aligner_and_tts_train_and_speak_on_an_ljspeech_folder(smoke_corpus, tmp_path):
    root = tmp_path / "LJSpeech-1.1"
    (root / "wavs").mkdir(parents=True)
    rows = []
    for i, utt in enumerate(smoke_corpus.filter(speaker="slt", emotion="neutral")[:8], start=1):
        utt_id = f"LJ001-{i:04d}"
        sf.write(root / "wavs" / f"{utt_id}.wav", audio.load(smoke_corpus.audio_path(utt), sr=22050), 22050)
        rows.append(f"{utt_id}|{utt.text}|{utt.text}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    manifest = read_ljspeech(root, progress=False)
    assert manifest.speakers == ["ljspeech"] and len(manifest) == 8
    config = AudioConfig()
    batches = SpeechBatches(manifest, config=config, batch_size=4, cache_dir=tmp_path / "cache",
                            with_audio=False, shuffle=False)

    keras.utils.set_random_seed(0)
    aligner = build_aligner(AlignerConfig(embed_dim=16, channels=16), config.n_mels)
    aligner.fit(batches, epochs=1, verbose=0)
    durations = durations_by_id(aligner, batches)
    for utt in manifest:
        mel_frames = len(batches.features.mel(utt))
        assert durations[utt.id].sum() == mel_frames and (durations[utt.id] >= 1).all()

    model = build_tts(TTSConfig(n_speakers=1, embed_dim=16, encoder_filters=16, encoder_units=8,
                                voice_dim=4, duration_filters=16, decoder_filters=16, decoder_units=8,
                                postnet_filters=16, dropout=0.0), config)
    history = model.fit(DurationBatches(batches, durations), epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all()

    y, mel, dur = synthesis.synthesize(model, "Hello there.", voice="ljspeech", speakers=manifest.speakers,
                                       config=config, n_iter=2)
    assert len(y) == len(mel) * config.hop_length == dur.sum() * config.hop_length
    assert np.isfinite(y).all()
