"""Signal processing, the bottom layer: audio files, features, Griffin-Lim, prosody.

- ``voicelab.dsp.audio``: load any audio file as float32 mono at a chosen rate; save; trim; loudness (notebook 01).
- ``voicelab.dsp.features``: ``AudioConfig``; STFT, mel, log-mel, MFCC, f0, energy (notebook 01).
- ``voicelab.dsp.griffin_lim``: batched fast Griffin-Lim, mel inversion, spectral convergence (notebook 01).
- ``voicelab.dsp.prosody``: SpeechSplit's random resampling, a uniform stretch, log-f0 normalised
  per utterance or per speaker and quantised (notebook 05).

Taught in ``notebooks/01_audio_features.ipynb``; notebooks 02-04 use it as it is, notebook
05 adds ``prosody``. Notebooks 06-08 (spoken commands and a recogniser, streaming
recognition, a talking face) will add their signal processing here. Imports nothing of
voicelab but ``voicelab.errors`` and ``voicelab.profiles``.
"""
