"""Recipes, the top layer: one module per notebook, holding what that notebook trains.

- ``voicelab.recipes.base``: the contract every recipe follows (``Recipe``, ``RecipeData``).
- ``voicelab.recipes.tts``: notebook 02 (aligner, speaker-id, reference-encoder and emotion TTS).
- ``voicelab.recipes.vocoder``: notebook 03 (MelGAN, and the iSTFT vocoder that is the kit's vocoder).
- ``voicelab.recipes.conversion``: notebook 04 (VQ-VAE voice conversion, its parallel evaluation).
- ``voicelab.recipes.speechsplit``: notebook 05 (the emotional corpus, the judge, SpeechSplit,
  VoiceGAN, CodeGAN); ``voicelab.recipes.speechsplit_eval`` renders and scores them.

A recipe holds the per-profile configuration (a frozen dataclass), ``prepare``,
``train_or_load_<model>`` and evaluate. The notebook and its benchmark import the same
recipe, so a figure of a results page (``docs/results/``) can be reproduced by a script.
What several notebooks share (the kit's vocoder, the aligner, the TTS, speaker
embeddings) is loaded through ``voicelab.artifacts``, never from another notebook's recipe.
"""
