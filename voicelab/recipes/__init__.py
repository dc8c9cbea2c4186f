"""Recipes, the top layer: one module per notebook, holding what that notebook trains.

- ``voicelab.recipes.tts``: notebook 02 (aligner, speaker-id and reference-encoder TTS).
- ``voicelab.recipes.vocoder``: notebook 03 (MelGAN) and the kit's vocoder, ``load_vocoder``.
- ``voicelab.recipes.conversion``: notebook 04 (VQ-VAE voice conversion, its parallel evaluation).

A recipe holds the per-profile configuration (a frozen dataclass), build, train-or-load
and evaluate. The notebook and its benchmark import the same recipe, so a figure in the
README can be reproduced by a script.
"""
