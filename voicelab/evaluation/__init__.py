"""Evaluation: objective metrics and the TTS and vocoder score tables.

- ``voicelab.evaluation.metrics``: MCD, pocketsphinx WER, speaker similarity, PESQ, STOI.
- ``voicelab.evaluation.tables``: per-group means and the plain-text tables every notebook prints.
- ``voicelab.evaluation.tts``: a TTS model scored per speaker (notebook 02).
- ``voicelab.evaluation.vocoders``: vocoders scored side by side (notebook 03).

Sits above models and synthesis; never imports ``voicelab.ui`` or ``voicelab.recipes``.
Listening tests (people as the judge) are widgets: ``voicelab.ui.listening``.
"""
