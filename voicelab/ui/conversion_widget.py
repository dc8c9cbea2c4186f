"""The voice-conversion widget: pick a clip (or your own file) and a voice, hear the conversion.

Introduced in ``notebooks/04_vqvae_voice_conversion.ipynb``. :func:`conversion_view` is
the compute behind it (a plain function, testable without a browser);
:func:`conversion_widget` is the ipywidgets front-end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from voicelab.dsp import audio as audio_io
from voicelab.dsp.features import AudioConfig, log_melspectrogram
from voicelab.errors import ParameterError, VoicelabError
from voicelab.ui import plots
from voicelab.ui.widgets import player, replace_output


@dataclasses.dataclass
class ConversionView:
    """What :func:`conversion_widget` shows: source, conversion and (when it exists) the target's recording."""

    source_label: str
    target: str
    source: np.ndarray
    converted: np.ndarray
    converted_mel: np.ndarray
    target_recording: np.ndarray | None
    config: AudioConfig

    def figure(self):
        """Log-mels of the source, the conversion and the target's recording, one above the other."""
        import matplotlib.pyplot as plt

        panels = [(f"source: {self.source_label}", log_melspectrogram(self.source, config=self.config)),
                  (f"converted to {self.target}", self.converted_mel)]
        if self.target_recording is not None:
            panels.append((f"{self.target}'s own recording",
                           log_melspectrogram(self.target_recording, config=self.config)))
        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.3 * len(panels)), layout="constrained",
                                 squeeze=False)
        for ax, (title, mel) in zip(axes[:, 0], panels):
            plots.spectrogram(mel, config=self.config, kind="mel", ax=ax, title=title)
        return fig


def conversion_view(convert: Callable[[np.ndarray, str], np.ndarray], source: np.ndarray, target: str, *,
                    vocoder: Callable[[np.ndarray], np.ndarray], config: AudioConfig = AudioConfig(),
                    source_label: str = "clip", target_recording: np.ndarray | None = None) -> ConversionView:
    """Convert ``source`` (audio at ``config.sr``) into voice ``target`` and vocode it.

    ``convert(mel, target) -> mel`` (e.g. ``voicelab.recipes.conversion.converter``);
    ``target_recording`` is the target's own rendition of the same sentence, if any.
    """
    source = audio_io.check_audio(source, name="source")
    if source.size < config.hop_length * 4:
        raise ParameterError(f"source has {source.size} samples: too short to convert (at least 4 frames)")
    mel = convert(log_melspectrogram(source, config=config), target)
    return ConversionView(source_label, target, source, vocoder(mel), mel, target_recording, config)


def conversion_widget(convert: Callable[[np.ndarray, str], np.ndarray], *, sources: Mapping[str, np.ndarray],
                      targets: Sequence[str], vocoder: Callable[[np.ndarray], np.ndarray],
                      recording: Callable[[str, str], np.ndarray | None] = lambda label, target: None,
                      config: AudioConfig = AudioConfig()):
    """A source menu (or a path to your own file), a target-voice menu and a button.

    ``sources``: label -> audio at ``config.sr`` (e.g. test clips); ``recording(label,
    target)`` returns the target's recording of that clip's sentence, or ``None``. A
    file path typed in the box replaces the menu's clip (any format ``voicelab.dsp.audio.load``
    reads; resampled). The first conversion is made at once, so the widget shows a result
    without a live kernel; errors (a missing file, a clip too short) are shown in it.
    """
    import ipywidgets

    if not sources or not targets:
        raise ParameterError("conversion_widget needs at least one source clip and one target voice")
    menu = ipywidgets.Dropdown(options=list(sources), description="source")
    path = ipywidgets.Text(value="", placeholder="or the path of your own recording",
                           layout=ipywidgets.Layout(width="40%"))
    target_menu = ipywidgets.Dropdown(options=list(targets), description="to voice")
    button = ipywidgets.Button(description="Convert", button_style="primary")
    out = ipywidgets.Output()

    def run(_=None):
        try:
            if path.value.strip():
                label, clip, truth = path.value.strip(), audio_io.load(path.value.strip(), sr=config.sr), None
            else:
                label, clip = menu.value, sources[menu.value]
                truth = recording(label, target_menu.value)
            view = conversion_view(convert, clip, target_menu.value, vocoder=vocoder, config=config,
                                   source_label=label, target_recording=truth)
        except (VoicelabError, OSError) as err:  # shown to the user, who picks another clip
            replace_output(out, ipywidgets.HTML(f"<b style='color: #b00'>{err}</b>"))
            return
        players = [player(view.source, sr=config.sr, label=f"source: {label}"),
                   player(view.converted, sr=config.sr, label=f"converted to {view.target}")]
        if view.target_recording is not None:
            players.append(player(view.target_recording, sr=config.sr, label=f"{view.target}'s recording"))
        replace_output(out, *players, view.figure())

    button.on_click(run)
    run()
    return ipywidgets.VBox([ipywidgets.HBox([menu, path]), ipywidgets.HBox([target_menu, button]), out])
