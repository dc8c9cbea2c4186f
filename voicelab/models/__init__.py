"""Models taught in the notebooks; each module is one model family.

- ``voicelab.models.tts``     CNN + BiLSTM text-to-speech (notebook 02)
- ``voicelab.models.melgan``  MelGAN vocoder (notebook 03)
"""
