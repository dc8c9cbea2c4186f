"""Signal processing, the bottom layer: audio files, features, Griffin-Lim.

- ``voicelab.dsp.audio``: load any audio file as float32 mono at a chosen rate; save; trim; loudness.
- ``voicelab.dsp.features``: ``AudioConfig``; STFT, mel, log-mel, MFCC, f0, energy.
- ``voicelab.dsp.griffin_lim``: batched fast Griffin-Lim, mel inversion, spectral convergence.
- ``voicelab.dsp.prosody``: SpeechSplit's random resampling, per-utterance normalised and quantised log-f0.

Taught in ``notebooks/01_audio_features.ipynb``. Imports nothing of voicelab but
``voicelab.errors``.
"""
