"""Models taught in the notebooks; each module is one model family or one job.

- ``voicelab.models.layers``        masks, code lengths, a length-exact BiLSTM, masked conv blocks (shared)
- ``voicelab.models.losses``        every loss: adversarial, feature matching, STFT, masked mel, duration, WGAN-GP
- ``voicelab.models.tts``           CNN + BiLSTM text-to-speech (notebook 02)
- ``voicelab.models.variance``      variance adaptor: per-symbol pitch and energy (notebook 02)
- ``voicelab.models.align``         learned text-to-mel aligner, monotonic alignment search (notebook 02)
- ``voicelab.models.melgan``        MelGAN generator, multi-scale discriminator (notebook 03)
- ``voicelab.models.weight_norm``   removable weight normalisation for convolutions (notebook 03)
- ``voicelab.models.istft_vocoder`` the kit's vocoder: frame-rate ConvNeXt, magnitude prior, inverse STFT (notebook 03)
- ``voicelab.models.vq``            vector quantiser with an EMA codebook, the VQ-VAE bottleneck (notebook 04)
- ``voicelab.models.vqvae``         VQ-VAE voice conversion: speaker-free encoder, voice-conditioned decoder (notebook 04)
- ``voicelab.models.speechsplit``   SpeechSplit: rhythm, content and pitch codes, decoded in any voice (notebook 05)
- ``voicelab.models.emotion``       an emotion classifier over log-mels, the judge of emotional speech (notebook 05)
- ``voicelab.models.voicegan``      VoiceGAN: a WGAN-GP that samples speaker embeddings of new voices (notebook 05)
- ``voicelab.models.codegan``       CodeGAN: a StarGAN moving rhythm and pitch codes to another emotion (notebook 05)

Notebooks 06-08 will add theirs here (a recogniser of spoken commands, streaming
recognition, a talking face).

Models are built from ``voicelab.dsp`` configurations; from the training stack they use
only ``voicelab.train.backend_steps`` (gradient steps, compiled inference); they never
import the evaluation, the UI or the recipes.
"""
