"""What the notebooks show: figures, players, interactive widgets and listening tests.

- ``voicelab.ui.plots``: waveforms, spectrograms, f0, filterbanks, training curves, heat maps
  (notebook 01), alignments (notebook 02), codes under phonemes (notebook 04).
- ``voicelab.ui.widgets``: labelled audio players, player grids, interactive explorers
  (notebook 01; used by every notebook).
- ``voicelab.ui.tts_widget``: type a sentence, pick a voice, hear it (notebook 02).
- ``voicelab.ui.listening``: MUSHRA-style ratings and A/B/X trials (notebook 03).
- ``voicelab.ui.conversion_widget``: pick a clip and a voice, hear the conversion (notebook 04).

Notebook 05 shows its results with ``plots`` and ``widgets`` alone. Notebooks 07-08 and the
browser conversation will add their views here (streaming recognition, a talking face).
Only ``voicelab.recipes`` and the notebooks import this layer.
"""
