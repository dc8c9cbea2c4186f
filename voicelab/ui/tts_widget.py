"""The text-to-speech widget: type a sentence, pick a voice, hear it, see its mel and durations.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``. :func:`synthesis_view` is the
compute behind it (a plain function, testable without a browser); :func:`tts_widget`
is the ipywidgets front-end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from voicelab import text
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.synthesis import synthesize
from voicelab.ui import plots
from voicelab.ui.widgets import player, replace_output
from voicelab.vocoders import Vocoder


@dataclasses.dataclass
class SynthesisView:
    """What :func:`tts_widget` shows: the audio, mel, durations and the phoneme symbols."""

    text: str
    voice: str
    audio: np.ndarray
    mel: np.ndarray
    durations: np.ndarray
    phonemes: list[str]
    config: AudioConfig

    def figure(self):
        """Mel with phoneme boundaries (top) and frames per phoneme (bottom)."""
        import matplotlib.pyplot as plt

        fig, (ax_mel, ax_dur) = plt.subplots(2, 1, figsize=(11, 5.5), layout="constrained",
                                             height_ratios=(3, 2))
        plots.spectrogram(self.mel, config=self.config, kind="mel", ax=ax_mel,
                          title=f"{self.voice}: {self.text!r}")
        seconds = np.cumsum(self.durations) * self.config.hop_length / self.config.sr
        for t in seconds[:-1]:
            ax_mel.axvline(t, color="white", linewidth=0.4, alpha=0.6)
        ax_dur.bar(np.arange(len(self.durations)), self.durations, color="tab:blue")
        ax_dur.set_xticks(np.arange(len(self.phonemes)), self.phonemes, rotation=90, fontsize=7)
        ax_dur.set(ylabel="frames", xlim=(-0.6, len(self.durations) - 0.4),
                   title="predicted duration of each phoneme symbol")
        return fig


def synthesis_view(model, text_in: str, voice_name: str, *, voices: Mapping[str, object],
                   config: AudioConfig = AudioConfig(), speed: float = 1.0, n_iter: int = 32,
                   speakers: Sequence[str] | None = None, vocoder: Vocoder | None = None,
                   emotion: str | None = None, emotions: Sequence[str] | None = None) -> SynthesisView:
    """The compute behind :func:`tts_widget`: synthesise ``text_in`` in ``voices[voice_name]``.

    ``emotion`` (one of ``emotions``, the model's names in id order) is for a model
    trained with an emotion input; the view's ``voice`` then reads e.g. ``"slt, happy"``.
    """
    if voice_name not in voices:
        raise ParameterError(f"voice_name={voice_name!r} is not one of {list(voices)}")
    y, mel, durations = synthesize(model, text_in, voice=voices[voice_name], config=config,
                                   speed=speed, n_iter=n_iter, speakers=speakers, vocoder=vocoder,
                                   emotion=emotion, emotions=emotions)
    pieces = [text_in] if len(text_in) <= text.MAX_TEXT_CHARS else text.split_sentences(text_in)
    phonemes = [p for piece in pieces for p in text.to_phonemes(piece)[0]]   # what `durations` counts, piece by piece
    label = voice_name if emotion is None else f"{voice_name}, {emotion}"
    return SynthesisView(text_in, label, y, mel, durations, phonemes, config)


def tts_widget(model, *, speakers: Sequence[str] = (), references: Mapping[str, object] | None = None,
               config: AudioConfig = AudioConfig(), text_in: str = "Please call Stella.", n_iter: int = 32,
               vocoder: Vocoder | None = None, emotions: Sequence[str] = ()):
    """A text box, a voice menu and a button: speak, play, and plot the mel and durations.

    The menu offers ``speakers`` (names, for a speaker-embedding model) or the clips
    of ``references`` (label -> audio or path, for a reference-encoder model). A model
    with an emotion input gets an emotion menu too (``emotions``: its names in id order). A first
    sentence is synthesised at once, so the widget shows a result without a live kernel.
    Errors (bad text) are shown in the widget. The compute is :func:`synthesis_view`.
    """
    import ipywidgets

    if model.config.voice == "speaker":
        voices = {name: name for name in speakers}
    else:
        voices = dict(references or {})
    if not voices:
        raise ParameterError("tts_widget needs speakers (speaker model) or references (reference model)")
    box = ipywidgets.Text(value=text_in, description="text", layout=ipywidgets.Layout(width="60%"))
    menu = ipywidgets.Dropdown(options=list(voices), description="voice")
    if model.config.n_emotions > 1 and len(emotions) != model.config.n_emotions:
        raise ParameterError(f"this model has {model.config.n_emotions} emotions: pass their names as emotions=, "
                             f"got {list(emotions)}")
    mood = ipywidgets.Dropdown(options=list(emotions), description="emotion") if model.config.n_emotions > 1 else None
    speed = ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.1, description="speed")
    button = ipywidgets.Button(description="Speak", button_style="primary")
    out = ipywidgets.Output()

    def speak(_=None):
        try:
            view = synthesis_view(model, box.value, menu.value, voices=voices, config=config,
                                  speed=speed.value, n_iter=n_iter, speakers=list(speakers), vocoder=vocoder,
                                  emotion=mood.value if mood else None, emotions=list(emotions) or None)
        except ParameterError as err:  # shown to the user, who fixes the text
            replace_output(out, ipywidgets.HTML(f"<b style='color: #b00'>{err}</b>"))
            return
        replace_output(out, player(view.audio, sr=config.sr, label=f"{view.voice}: {view.text}"), view.figure())

    button.on_click(speak)
    speak()
    menus = [box, menu] + ([mood] if mood else [])
    return ipywidgets.VBox([ipywidgets.HBox(menus), ipywidgets.HBox([speed, button]), out])
