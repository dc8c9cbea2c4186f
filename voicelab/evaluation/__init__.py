"""Evaluation: objective metrics and the TTS, vocoder, conversion and emotion score tables.

- ``voicelab.evaluation.metrics``: MCD, pocketsphinx WER, speaker similarity, PESQ, STOI.
- ``voicelab.evaluation.tables``: per-group means and the plain-text tables every notebook prints.
- ``voicelab.evaluation.tts``: a TTS model scored per speaker (notebook 02).
- ``voicelab.evaluation.vocoders``: vocoders scored side by side (notebook 03).
- ``voicelab.evaluation.conversion``: voice conversion scored against the parallel recordings; codes vs phonemes (notebook 04).
- ``voicelab.evaluation.emotion``: emotional renditions scored against the parallel recordings: the judge,
  f0, duration, MCD, voice and WER (notebook 05).

``metrics`` and ``tables`` are introduced in notebook 02 and used by every later notebook.
Notebooks 06-07 (a recogniser of spoken commands, streaming recognition) will add their
scores here. Sits above models and synthesis; never imports ``voicelab.ui`` or ``voicelab.recipes``.
Listening tests (people as the judge) are widgets: ``voicelab.ui.listening``.
"""
