"""Models taught in the notebooks; each module is one model family or one job.

- ``voicelab.models.tts``           CNN + BiLSTM text-to-speech (notebook 02)
- ``voicelab.models.align``         learned text-to-mel aligner, monotonic alignment search
- ``voicelab.models.tts_training``  TTS losses and resumable-training callbacks
- ``voicelab.models.melgan``        MelGAN generator, multi-scale discriminator (notebook 03)
- ``voicelab.models.weight_norm``   removable weight normalisation for convolutions
- ``voicelab.models.losses``        adversarial, feature-matching and multi-resolution STFT losses
"""
