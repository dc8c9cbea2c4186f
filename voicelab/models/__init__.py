"""Models taught in the notebooks; each module is one model family or one job.

- ``voicelab.models.layers``        masks, a length-exact BiLSTM, masked conv blocks (shared)
- ``voicelab.models.losses``        every loss: adversarial, feature matching, STFT, masked mel, duration
- ``voicelab.models.tts``           CNN + BiLSTM text-to-speech (notebook 02)
- ``voicelab.models.align``         learned text-to-mel aligner, monotonic alignment search (notebook 02)
- ``voicelab.models.melgan``        MelGAN generator, multi-scale discriminator (notebook 03)
- ``voicelab.models.weight_norm``   removable weight normalisation for convolutions (notebook 03)

Models are built from ``voicelab.dsp`` configurations; they never import the training
stack (``voicelab.train``), the evaluation, the UI or the recipes.
"""
