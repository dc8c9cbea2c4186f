"""Audio players and interactive explorers for the notebooks.

Introduced in ``notebooks/01_audio_features.ipynb``.

Every widget here also carries a plain-HTML copy of itself (``<audio>`` elements
with the sound embedded): a front-end with widget support shows the widget (an
executed notebook saves the widgets' state, which nbconvert's HTML export renders),
and a viewer without it falls back to the HTML copy, which still plays. Under
papermill, where there is no front-end at all, the widgets are built and displayed
as ordinary objects. Sliders
need a live kernel; the compute behind them is a plain function
(:func:`explore_reconstruction`) that scripts and tests call directly.

Example
-------
>>> import numpy as np
>>> tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)
>>> p = player(tone, sr=16000, label="220 Hz")
>>> "<audio" in p.value and "220 Hz" in p.value
True
"""

from __future__ import annotations

import base64
import dataclasses
import html
import os
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import numpy as np
from IPython.display import Audio

from voicelab.dsp import features, griffin_lim
from voicelab.dsp.audio import check_audio, check_sr, load_with_rate
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError

Clip = tuple[Any, int] | str | os.PathLike


def _listen_for_html(listen_for: str | None) -> str:
    if not listen_for:
        return ""
    return f'<div style="font-size: 85%; font-style: italic; color: #555">listen for: {html.escape(listen_for)}</div>'


def audio_html(y: Any, *, sr: int, label: str | None = None, normalize: bool = True,
               listen_for: str | None = None) -> str:
    """An HTML ``<audio>`` element with ``y`` embedded as a 16-bit WAV (base64).

    ``normalize=True`` scales the loudest sample to full scale, as
    ``IPython.display.Audio`` does; ``False`` plays the samples as they are (keep it
    to hear level differences between clips). Silence plays as silence either way.
    ``listen_for`` is a line under the player saying what to listen for.
    """
    y = check_audio(y)
    sr = check_sr(sr)
    if not np.any(y):
        normalize = False  # IPython would divide by a zero peak
    wav = Audio(np.clip(y, -1, 1) if not normalize else y, rate=sr, normalize=normalize).data
    src = "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii")
    caption = f'<div style="font-size: 90%">{html.escape(label)}</div>' if label else ""
    return (
        f'<div class="voicelab-player">{caption}'
        f'<audio controls preload="none" style="width: 100%; min-width: 140px" src="{src}"></audio>'
        f"{_listen_for_html(listen_for)}</div>"
    )


class _StaticHTML:
    """Mixin: add a ``text/html`` copy to a widget's display data.

    Widget front-ends prefer the live widget view; static renderers (nbconvert HTML,
    notebook viewers) fall back to the HTML copy and can still play the audio.
    """

    def static_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if bundle is not None:
            bundle["text/html"] = self.static_html()
        return bundle


class Player(_StaticHTML, ipywidgets.HTML):
    """An ``HTML`` widget holding one labelled ``<audio>`` element (see :func:`player`)."""

    def static_html(self) -> str:
        return self.value


def player(y: Any, *, sr: int, label: str | None = None, normalize: bool = True,
           listen_for: str | None = None) -> Player:
    """A labelled audio player: a widget that also plays in static notebook HTML.

    Parameters
    ----------
    y : array, shape ``[samples]``
        Mono audio in ``[-1, 1]``.
    sr : int
        Sample rate in Hz.
    label : str, optional
        Caption above the player.
    normalize : bool
        Scale to full volume (default), or play at the recorded level.
    listen_for : str, optional
        What to listen for, in a line under the player.

    Example
    -------
    >>> import numpy as np
    >>> p = player(np.zeros(1600, np.float32), sr=16000, label="0.1 s of silence", listen_for="nothing at all")
    >>> p.value.count("<audio"), "0.1 s of silence" in p.value, "listen for: nothing at all" in p.value
    (1, True, True)
    """
    return Player(value=audio_html(y, sr=sr, label=label, normalize=normalize, listen_for=listen_for))


def replace_output(out: ipywidgets.Output, *items: Any) -> None:
    """Make ``out`` show ``items`` (widgets, matplotlib figures, anything displayable), in order.

    The display data is written into the widget's state rather than captured with
    ``with out:``, so it works the same during a cell's execution (the first result a
    widget shows, also under papermill) and in a button's callback. Figures are
    rendered to PNG and closed.
    """
    from IPython.display import Image

    out.outputs = ()
    for item in items:
        if hasattr(item, "savefig"):  # a matplotlib figure
            import io

            import matplotlib.pyplot as plt

            buffer = io.BytesIO()
            item.savefig(buffer, format="png", dpi=80)
            plt.close(item)
            item = Image(data=buffer.getvalue(), format="png")
        out.append_display_data(item)


class Notice(_StaticHTML, ipywidgets.HTML):
    """An ``HTML`` widget holding one framed message (see :func:`skipped`)."""

    def static_html(self) -> str:
        return self.value


def skipped(section: str, why: str) -> Notice:
    """A visible, framed notice that ``section`` did not run, and why (also printed, for logs).

    Notebooks call it where a section needs something not there yet (a model another
    notebook trains), instead of skipping in silence.

    Example
    -------
    >>> n = skipped("End to end", "no TTS model: run notebook 02 first")   # doctest: +ELLIPSIS
    SKIPPED End to end: no TTS model: run notebook 02 first
    >>> "run notebook 02 first" in n.value
    True
    """
    import html

    print(f"SKIPPED {section}: {why}")
    return Notice(value=(f'<div style="border-left: 4px solid #d9a400; background: #fff8e1; padding: 6px 10px">'
                         f"<b>{html.escape(section)} skipped:</b> {html.escape(why)}</div>"))


def _as_audio(clip: Clip, key: Any) -> tuple[np.ndarray, int]:
    if isinstance(clip, (str, os.PathLike)):
        return load_with_rate(clip)
    if isinstance(clip, tuple) and len(clip) == 2:
        return check_audio(clip[0], name=f"clips[{key!r}][0]"), check_sr(clip[1])
    raise ParameterError(f"clips[{key!r}] must be (y, sr) or an audio file path, got {type(clip).__name__}")


class PlayerGrid(_StaticHTML, ipywidgets.GridBox):
    """A ``GridBox`` of players with row and column headers (see :func:`player_grid`)."""

    def __init__(self, rows: Sequence[str], cols: Sequence[str], players: dict, *, listen_for: str | None = None,
                 **kwargs: Any):
        self.rows, self.cols, self.players, self.listen_for = list(rows), list(cols), players, listen_for
        cells: list[ipywidgets.Widget] = [ipywidgets.HTML(_listen_for_html(listen_for))]   # the top-left corner
        cells += [ipywidgets.HTML(f"<b>{html.escape(str(c))}</b>") for c in self.cols]
        for r in self.rows:
            cells.append(ipywidgets.HTML(f"<b>{html.escape(str(r))}</b>"))
            cells += [players.get((r, c)) or ipywidgets.HTML("&mdash;") for c in self.cols]
        layout = ipywidgets.Layout(
            grid_template_columns=f"max-content repeat({len(self.cols)}, minmax(140px, 1fr))",
            grid_gap="4px 8px", align_items="center",
        )
        super().__init__(children=cells, layout=layout, **kwargs)

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(rows), len(cols))``, the players' grid without the headers."""
        return len(self.rows), len(self.cols)

    def static_html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.cols)
        body = ""
        for r in self.rows:
            tds = "".join(
                f"<td>{self.players[r, c].value if (r, c) in self.players else '&mdash;'}</td>"
                for c in self.cols
            )
            body += f"<tr><th>{html.escape(str(r))}</th>{tds}</tr>"
        caption = f"<caption>{_listen_for_html(self.listen_for)}</caption>" if self.listen_for else ""
        return f"<table>{caption}<tr><th></th>{head}</tr>{body}</table>"


def player_grid(
    clips: Mapping[tuple[str, str], Clip],
    *,
    rows: Sequence[str],
    cols: Sequence[str],
    normalize: bool = True,
    listen_for: str | None = None,
) -> PlayerGrid:
    """A ``rows x cols`` table of players, e.g. speakers x emotions for one sentence.

    Parameters
    ----------
    clips : dict ``(row, col) -> (y, sr)`` or audio file path
        Missing cells show a dash.
    rows, cols : sequence of str
        Row and column labels, in display order.
    normalize : bool
        As for :func:`player`; ``False`` keeps the level differences between clips.
    listen_for : str, optional
        What to listen for across the grid, in its top-left corner.

    Returns
    -------
    PlayerGrid
        An ``ipywidgets.GridBox``: a header row, then one row per label;
        ``.players[(row, col)]`` is each cell's :class:`Player`, ``.shape`` is
        ``(len(rows), len(cols))``.

    Example
    -------
    >>> import numpy as np
    >>> grid = player_grid({("a", "x"): (np.zeros(160), 16000)}, rows=["a", "b"], cols=["x"])
    >>> grid.shape, len(grid.children)
    ((2, 1), 6)
    """
    unknown = [key for key in clips if key[0] not in rows or key[1] not in cols]
    if unknown:
        raise ParameterError(f"clips has keys {unknown[:3]} outside rows={list(rows)} x cols={list(cols)}")
    players = {}
    for key, clip in clips.items():
        y, sr = _as_audio(clip, key)
        players[key] = player(y, sr=sr, normalize=normalize)
    return PlayerGrid(rows, cols, players, listen_for=listen_for)


# ----------------------------------------------------------------- Griffin-Lim explorer


def explore_reconstruction(
    y: Any,
    *,
    sr: int,
    n_iter: int,
    n_mels: int | None = None,
    hop_length: int | None = None,
    config: AudioConfig | None = None,
) -> tuple[np.ndarray, float]:
    """Throw the phase away, rebuild it with Griffin-Lim, and score the result.

    ``y``'s STFT magnitude (optionally squeezed through ``n_mels`` mel bands and
    expanded back with :func:`voicelab.dsp.griffin_lim.mel_to_linear`, as a vocoder fed
    a mel spectrogram must) is given to :func:`voicelab.dsp.griffin_lim.griffin_lim`
    (fast Griffin-Lim, random initial phase with seed 0) for ``n_iter`` iterations.

    Parameters
    ----------
    y : array, shape ``[samples]``
        Mono audio.
    sr : int
        Its sample rate.
    n_iter : int
        Griffin-Lim iterations (at least 1).
    n_mels : int or None
        Mel bands to go through; ``None`` reconstructs from the linear magnitude.
    hop_length : int, optional
        Overrides ``config.hop_length`` (more overlap, more redundancy to exploit).
    config : AudioConfig, optional
        The other STFT settings (default ``AudioConfig(sr=sr)``).

    Returns
    -------
    audio : np.ndarray of float32, shape ``[samples]``
        The reconstruction, the length of ``y``.
    sc : float
        Spectral convergence ``||S - |STFT(audio)|||_F / ||S||_F`` against ``y``'s own
        linear magnitude ``S``: 0 is perfect; it counts what the mel squeeze loses too.
    """
    y = check_audio(y)
    sr = check_sr(sr)
    config = AudioConfig(sr=sr) if config is None else config
    if config.sr != sr:
        raise ParameterError(f"config.sr={config.sr} does not match sr={sr}")
    changes: dict[str, int] = {}
    if hop_length is not None:
        changes["hop_length"] = hop_length
    if n_mels is not None:
        changes["n_mels"] = n_mels
    config = dataclasses.replace(config, **changes)
    mag = features.magnitude(y, config=config)
    if n_mels is None:
        target = mag
    else:
        target = griffin_lim.mel_to_linear(features.melspectrogram(y, config=config), config=config)
    audio = griffin_lim.griffin_lim(target, config=config, n_iter=int(n_iter), length=len(y))
    sc = griffin_lim.spectral_convergence_from_audio(audio, mag, config=config)
    return np.asarray(audio, dtype=np.float32), float(sc)


class GriffinLimExplorer(_StaticHTML, ipywidgets.VBox):
    """Sliders, a result line and two players (see :func:`griffin_lim_explorer`)."""

    def static_html(self) -> str:
        return (
            f"{self.result.value}<div style='display: flex; gap: 12px'>"
            f"<div style='flex: 1'>{self.original.value}</div>"
            f"<div style='flex: 1'>{self.reconstruction.value}</div></div>"
            "<p><i>Run the notebook live to move the sliders.</i></p>"
        )


def griffin_lim_explorer(
    y: Any,
    *,
    config: AudioConfig,
    n_iter: int = 32,
    n_mels: int | None = None,
) -> GriffinLimExplorer:
    """Sliders for Griffin-Lim iterations, mel bands and hop; hear and score each choice.

    Each change runs :func:`explore_reconstruction` (it blocks for the second or so
    the reconstruction takes) and updates the spectral convergence and the player;
    the first reconstruction is computed at once, so the widget has a result even
    where nothing moves the sliders.

    Parameters
    ----------
    y : array, shape ``[samples]``
        The clip, at ``config.sr``.
    config : AudioConfig
        STFT settings; the hop slider offers ``hop_length`` and its half and quarter.
    n_iter, n_mels : int
        Starting values; ``n_mels=None`` starts from the linear magnitude.
    """
    y = check_audio(y)
    iter_choices = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    mel_choices = [("linear", 0), *((str(m), m) for m in (10, 20, 40, 80, 128) if m <= config.n_freqs)]
    hop_choices = sorted({max(1, config.hop_length // k) for k in (4, 2, 1)})
    style = {"description_width": "initial"}
    sliders = {
        "n_iter": ipywidgets.SelectionSlider(
            options=iter_choices, value=n_iter if n_iter in iter_choices else 32,
            description="iterations", continuous_update=False, style=style),
        "n_mels": ipywidgets.SelectionSlider(
            options=mel_choices, value=n_mels or 0, description="mel bands",
            continuous_update=False, style=style),
        "hop_length": ipywidgets.SelectionSlider(
            options=hop_choices, value=config.hop_length, description="hop (samples)",
            continuous_update=False, style=style),
    }
    result = ipywidgets.HTML()
    original = player(y, sr=config.sr, label="original")
    reconstruction = Player()

    def update(_: Any = None) -> None:
        kw = {name: s.value for name, s in sliders.items()}
        result.value = "<i>reconstructing...</i>"
        audio, sc = explore_reconstruction(
            y, sr=config.sr, n_iter=kw["n_iter"], n_mels=kw["n_mels"] or None,
            hop_length=kw["hop_length"], config=config)
        mels = "the linear magnitude" if not kw["n_mels"] else f"{kw['n_mels']} mel bands"
        result.value = (f"<b>spectral convergence {sc:.3f}</b> after {kw['n_iter']} iterations "
                        f"from {mels}, hop {kw['hop_length']}")
        reconstruction.value = audio_html(audio, sr=config.sr, label="Griffin-Lim reconstruction")

    for half in (original, reconstruction):
        half.layout.flex = "1 1 0%"
    for slider in sliders.values():
        slider.observe(update, names="value")
    update()
    box = GriffinLimExplorer(children=[
        ipywidgets.HBox(list(sliders.values())),
        result,
        ipywidgets.HBox([original, reconstruction]),
    ])
    box.result, box.original, box.reconstruction, box.sliders = result, original, reconstruction, sliders
    return box
