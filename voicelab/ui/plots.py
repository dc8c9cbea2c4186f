"""Figures every notebook reuses: waveforms, spectrograms, f0, filterbanks, curves.

Introduced in ``notebooks/01_audio_features.ipynb``.

Conventions, the same in every function:

- Feature matrices come in voicelab's **time-major** layout ``[frames, bins]`` (see
  :mod:`voicelab.dsp.features`); the functions transpose for ``imshow`` themselves.
- Time axes are in seconds. Frame ``i`` of a centred STFT is drawn centred on
  ``i * hop_length / sr``, the time :func:`voicelab.dsp.features.f0` reports for it.
- Each function takes ``ax=None`` (a new figure when ``None``) and returns the
  ``Axes`` it drew on (grids return the ``Figure``), so a figure can be composed
  from several calls and closed with ``plt.close(ax.figure)``.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np
>>> from voicelab.dsp.features import AudioConfig
>>> from voicelab.ui import plots
>>> ax = plots.waveform(np.zeros(16000, dtype="float32"), sr=16000)
>>> ax.get_xlabel()
'time (s)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from voicelab.dsp.audio import check_audio, check_sr
from voicelab.dsp.features import AudioConfig, frames_to_seconds
from voicelab.errors import ParameterError

KINDS = ("linear", "mel", "mfcc")

_BIN_LABEL = {"linear": "frequency (Hz)", "mel": "mel band", "mfcc": "MFCC coefficient"}
_CMAP = {"linear": "magma", "mel": "magma", "mfcc": "coolwarm"}
# voicelab's log-mel is a natural log (features.log_mel); linear spectrograms are shown in dB
_CBAR_LABEL = {"linear": "dB", "mel": "log magnitude (ln)", "mfcc": "coefficient value"}


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _matrix(S: Any, name: str) -> np.ndarray:
    S = np.asarray(S, dtype=float)
    if S.ndim != 2:
        raise ParameterError(f"{name} must be 2-D [frames, bins], got shape {S.shape}")
    return S


def time_extent(n_frames: int, *, config: AudioConfig) -> tuple[float, float]:
    """Left and right edges in seconds of ``n_frames`` frames drawn centred on their times."""
    dt = config.frame_seconds
    return (-dt / 2, (n_frames - 0.5) * dt)


def waveform(
    y: Any,
    *,
    sr: int,
    ax: Axes | None = None,
    title: str | None = "Waveform",
    **line_kwargs: Any,
) -> Axes:
    """Plot samples against time in seconds.

    Parameters
    ----------
    y : array, shape ``[samples]``
        Mono audio in ``[-1, 1]``.
    sr : int
        Sample rate in Hz.
    ax : Axes, optional
        Where to draw; a new ``10 x 2.5`` inch figure when ``None``.
    title : str or None
        Axes title.
    **line_kwargs
        Passed to ``ax.plot`` (``color``, ``alpha``, ``label``, ...).

    Example
    -------
    >>> import numpy as np
    >>> ax = waveform(np.sin(np.linspace(0, 100, 8000)), sr=8000)
    >>> float(ax.get_xlim()[1])
    1.0
    """
    y = check_audio(y)
    sr = check_sr(sr)
    ax = _new_axes(ax, (10, 2.5))
    t = np.arange(len(y)) / sr
    line_kwargs.setdefault("linewidth", 0.6)
    ax.plot(t, y, **line_kwargs)
    ax.set_xlim(0, len(y) / sr)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    return ax


def spectrogram(
    S: Any,
    *,
    config: AudioConfig,
    kind: str = "linear",
    ax: Axes | None = None,
    title: str | None = None,
    colorbar: bool = True,
    cbar_label: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str | None = None,
) -> Axes:
    """Show a time-major feature matrix as an image: time in seconds across, bins up.

    Parameters
    ----------
    S : array, shape ``[frames, bins]``
        A magnitude in dB (``kind="linear"``, ``bins = n_fft // 2 + 1``), a log-mel
        (``kind="mel"``, ``bins = n_mels``) or MFCCs (``kind="mfcc"``).
    config : AudioConfig
        Gives the seconds per frame and, for ``"linear"``, the Hz per bin.
    kind : {"linear", "mel", "mfcc"}
        Sets the vertical axis: frequency in Hz, mel band index, or coefficient index.
    ax : Axes, optional
        Where to draw; a new ``10 x 3.5`` inch figure when ``None``.
    title, cbar_label : str or None
        Axes title and colorbar label (defaults name ``kind`` and its unit: dB for
        ``"linear"``, natural log for ``"mel"``, as :mod:`voicelab.dsp.features` makes them).
    colorbar : bool
        Draw a colorbar beside the axes.
    vmin, vmax : float, optional
        Colour range; share it between images you compare.
    cmap : str, optional
        Colormap (``magma``; ``coolwarm`` for MFCCs, which are signed, on a colour
        range centred on 0 unless ``vmin``/``vmax`` are given).

    Example
    -------
    >>> import numpy as np
    >>> cfg = AudioConfig()
    >>> ax = spectrogram(np.zeros((100, cfg.n_freqs)), config=cfg)
    >>> ax.get_ylabel()
    'frequency (Hz)'
    """
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    S = _matrix(S, "S")
    n_frames, n_bins = S.shape
    if kind == "linear":
        if n_bins != config.n_freqs:
            raise ParameterError(
                f"S has {n_bins} bins but config.n_fft={config.n_fft} gives {config.n_freqs}; "
                "pass S time-major [frames, bins] with the config that made it"
            )
        df = config.sr / config.n_fft
        y_extent = (-df / 2, (n_bins - 0.5) * df)
    else:
        if kind == "mel" and n_bins != config.n_mels:
            raise ParameterError(
                f"S has {n_bins} bins but config.n_mels={config.n_mels}; "
                "pass S time-major [frames, n_mels]"
            )
        y_extent = (-0.5, n_bins - 0.5)
    if kind == "mfcc" and vmin is None and vmax is None:
        vmax = float(np.abs(S).max())  # a diverging colormap: centre it on 0
        vmin = -vmax
    ax = _new_axes(ax, (10, 3.5))
    image = ax.imshow(
        S.T,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=(*time_extent(n_frames, config=config), *y_extent),
        cmap=cmap or _CMAP[kind],
        vmin=vmin,
        vmax=vmax,
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel(_BIN_LABEL[kind])
    if title is None:
        title = {"linear": "Spectrogram", "mel": "Log-mel spectrogram", "mfcc": "MFCC"}[kind]
    if title:
        ax.set_title(title)
    if colorbar:
        cbar = ax.figure.colorbar(image, ax=ax, pad=0.01)
        cbar.set_label(_CBAR_LABEL[kind] if cbar_label is None else cbar_label)
    return ax


def f0_overlay(
    spec: Any,
    f0: Any,
    voiced: Any = None,
    *,
    config: AudioConfig,
    ax: Axes | None = None,
    fmax: float | None = 1000.0,
    harmonics: int = 0,
    title: str | None = "f0 over the spectrogram",
    **spec_kwargs: Any,
) -> Axes:
    """Draw an f0 track (Hz) over a linear spectrogram (dB), unvoiced frames left blank.

    Parameters
    ----------
    spec : array, shape ``[frames, n_fft // 2 + 1]`` or None
        Magnitude in dB; ``None`` draws the f0 curve alone.
    f0 : array, shape ``[frames]``
        Fundamental frequency in Hz, one value per spectrogram frame.
    voiced : array of bool, shape ``[frames]``, optional
        Voicing decision; frames where it is false (or f0 is 0 or NaN) are not drawn.
    config : AudioConfig
        The settings that made ``spec`` and ``f0``.
    fmax : float or None
        Top of the frequency axis in Hz (harmonics live low: 1 kHz by default).
    harmonics : int
        Also draw ``2 f0 ... (harmonics + 1) f0``, dashed, to see that the spectrum's
        stripes are multiples of f0.
    **spec_kwargs
        Passed to :func:`spectrogram`.
    """
    f0 = np.asarray(f0, dtype=float).copy()
    if f0.ndim != 1:
        raise ParameterError(f"f0 must be 1-D [frames], got shape {f0.shape}")
    if voiced is not None:
        voiced = np.asarray(voiced, dtype=bool)
        if voiced.shape != f0.shape:
            raise ParameterError(f"voiced has shape {voiced.shape}, f0 has {f0.shape}")
        f0[~voiced] = np.nan
    f0[~(f0 > 0)] = np.nan  # 0 and NaN both mean unvoiced
    ax = _new_axes(ax, (10, 3.5))
    if spec is not None:
        spectrogram(spec, config=config, kind="linear", ax=ax, title="", **spec_kwargs)
    t = frames_to_seconds(np.arange(len(f0)), config=config)
    ax.plot(t, f0, color="cyan", linewidth=2, label="f0")
    for k in range(2, harmonics + 2):
        ax.plot(t, k * f0, color="cyan", linewidth=1, linestyle="--", alpha=0.7,
                label="harmonics" if k == 2 else None)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    top = config.sr / 2 if fmax is None else min(fmax, config.sr / 2)
    ax.set_ylim(0, top)
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def mel_filterbank(
    fb: Any,
    *,
    config: AudioConfig,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot each mel filter's weight against frequency in Hz.

    Parameters
    ----------
    fb : array, shape ``[n_fft // 2 + 1, n_mels]`` (or its transpose)
        The filterbank :func:`voicelab.dsp.features.mel_filterbank` returns.
    config : AudioConfig
        Gives ``sr`` and ``n_fft`` for the Hz axis.
    """
    fb = _matrix(fb, "fb")
    if fb.shape[0] != config.n_freqs and fb.shape[1] == config.n_freqs:
        fb = fb.T
    if fb.shape[0] != config.n_freqs:
        raise ParameterError(
            f"fb has shape {fb.shape}; expected {config.n_freqs} frequency bins "
            f"(n_fft={config.n_fft}) on one axis"
        )
    n_mels = fb.shape[1]
    ax = _new_axes(ax, (10, 3))
    hz = np.arange(config.n_freqs) * config.sr / config.n_fft
    colors = plt.get_cmap("viridis")(np.linspace(0, 1, n_mels))
    for m in range(n_mels):
        ax.plot(hz, fb[:, m], color=colors[m], linewidth=0.9)
    ax.set_xlim(0, config.sr / 2)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("weight")
    ax.set_title(title or f"Mel filterbank: {n_mels} triangular filters")
    return ax


def feature_grid(
    specs: Mapping[tuple[str, str], Any],
    *,
    rows: Sequence[str],
    cols: Sequence[str],
    config: AudioConfig,
    kind: str = "mel",
    cell_size: tuple[float, float] = (2.8, 1.7),
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """A ``rows x cols`` grid of small spectrograms on one colour scale.

    Parameters
    ----------
    specs : dict ``(row, col) -> array [frames, bins]``
        E.g. ``{("slt", "happy"): log_mel, ...}``; missing cells are left empty.
    rows, cols : sequence of str
        Row labels (e.g. speakers) and column labels (e.g. emotions), in order.
    config : AudioConfig
        As for :func:`spectrogram`.
    kind : {"linear", "mel", "mfcc"}
        As for :func:`spectrogram`.
    vmin, vmax : float, optional
        Colour range; by default the 2nd percentile and the maximum over all cells.

    Returns
    -------
    Figure
        ``fig.axes[:rows*cols]`` are the cells, row-major, on one time axis (so
        durations compare); the last axes is the colorbar.
    """
    if not specs:
        raise ParameterError("specs is empty: nothing to draw")
    unknown = [key for key in specs if key[0] not in rows or key[1] not in cols]
    if unknown:
        raise ParameterError(f"specs has keys {unknown[:3]} outside rows={list(rows)} x cols={list(cols)}")
    values = np.concatenate([_matrix(S, f"specs[{key}]").ravel() for key, S in specs.items()])
    vmin = float(np.percentile(values, 2)) if vmin is None else vmin
    vmax = float(values.max()) if vmax is None else vmax
    fig, axes = plt.subplots(
        len(rows), len(cols),
        figsize=(cell_size[0] * len(cols) + 1, cell_size[1] * len(rows) + 0.6),
        squeeze=False, sharex=True, sharey=True, layout="constrained",
    )
    image = None
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            ax = axes[i, j]
            if (row, col) in specs:
                spectrogram(specs[row, col], config=config, kind=kind, ax=ax, title="",
                            colorbar=False, vmin=vmin, vmax=vmax)
                image = ax.images[-1]
            else:
                ax.text(0.5, 0.5, "missing", ha="center", va="center", transform=ax.transAxes)
                ax.set_xticks([])
            ax.set_xlabel("time (s)" if i == len(rows) - 1 else "")
            ax.set_ylabel(f"{row}\n{_BIN_LABEL[kind]}" if j == 0 else "")
            if i == 0:
                ax.set_title(col)
    longest = max(len(S) for S in specs.values())
    axes[0, 0].set_xlim(*time_extent(longest, config=config))  # shared by every cell
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label=_CBAR_LABEL[kind])
    if title:
        fig.suptitle(title)
    return fig


def distributions(
    values_by_label: Mapping[str, Any],
    *,
    kind: str = "violin",
    ax: Axes | None = None,
    xlabel: str = "",
    ylabel: str = "f0 (Hz)",
    title: str | None = None,
    bins: int = 40,
) -> Axes:
    """Compare the distribution of a quantity across labels (e.g. f0 per emotion).

    Parameters
    ----------
    values_by_label : dict ``label -> 1-D array``
        NaNs are dropped (e.g. unvoiced f0 frames); the count is shown per label.
    kind : {"violin", "box", "hist"}
        Violins (default) or boxes side by side, or overlaid density histograms.
    ylabel : str
        Name and unit of the quantity (the x axis for ``"hist"``).

    Example
    -------
    >>> import numpy as np
    >>> ax = distributions({"neutral": np.full(50, 120.0), "happy": np.linspace(150, 250, 50)})
    >>> [t.get_text().split()[0] for t in ax.get_xticklabels()]
    ['neutral', 'happy']
    """
    if kind not in ("violin", "box", "hist"):
        raise ParameterError(f"kind={kind!r} is not one of violin, box, hist")
    if not values_by_label:
        raise ParameterError("values_by_label is empty: nothing to draw")
    labels = list(values_by_label)
    data = []
    for label in labels:
        v = np.asarray(values_by_label[label], dtype=float).ravel()
        data.append(v[np.isfinite(v)])
    ax = _new_axes(ax, (7, 3.5))
    ticks = [f"{label}\n(n={len(v)})" for label, v in zip(labels, data)]
    if kind == "hist":
        pooled = np.concatenate(data)
        edges = np.histogram_bin_edges(pooled if len(pooled) else [0.0, 1.0], bins=bins)
        for tick, v in zip(ticks, data):
            if not len(v):
                ax.plot([], [], label=tick.replace("\n", " "))  # keep the legend complete
                continue
            ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.5,
                    label=tick.replace("\n", " "))
        ax.set_xlabel(ylabel)
        ax.set_ylabel("density")
        ax.legend()
    else:
        positions = np.arange(1, len(labels) + 1)
        # violinplot and boxplot fail on empty arrays: draw the non-empty ones only
        keep = [k for k, v in enumerate(data) if len(v)]
        if keep:
            kept = [data[k] for k in keep]
            if kind == "violin":
                ax.violinplot(kept, positions=positions[keep], showmedians=True)
            else:
                ax.boxplot(kept, positions=positions[keep], showfliers=False)
        ax.set_xticks(positions, ticks)
        ax.set_xlim(0.4, len(labels) + 0.6)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def convergence(
    sc_per_iter: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    logy: bool = True,
    title: str | None = "Griffin-Lim: spectral convergence",
) -> Axes:
    """Spectral convergence against Griffin-Lim iteration (1-based), log scale.

    Parameters
    ----------
    sc_per_iter : 1-D array, or dict ``label -> 1-D array``
        One value per iteration, e.g. from
        ``griffin_lim(..., return_convergence=True)``; a dict draws one curve each.

    Example
    -------
    >>> ax = convergence({"hop 256": [0.5, 0.3, 0.2], "hop 128": [0.4, 0.2, 0.1]})
    >>> ax.get_xlabel()
    'iteration'
    """
    curves = dict(sc_per_iter) if isinstance(sc_per_iter, Mapping) else {label: sc_per_iter}
    ax = _new_axes(ax, (6, 3.5))
    for name, sc in curves.items():
        sc = np.asarray(sc, dtype=float).ravel()
        ax.plot(np.arange(1, len(sc) + 1), sc, label=name)
    if logy:
        ax.set_yscale("log")
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(FormatStrFormatter("%g"))  # 0.03, not 3 x 10^-2
    ax.set_xlabel("iteration")
    ax.set_ylabel("spectral convergence")
    ax.grid(True, which="both", alpha=0.3)
    if any(name is not None for name in curves):
        ax.legend()
    if title:
        ax.set_title(title)
    return ax


def losses(
    history: Any,
    *,
    keys: Sequence[str] | None = None,
    ax: Axes | None = None,
    table: str = "epochs",
    logy: bool = False,
    title: str | None = "Training curves",
) -> Axes:
    """Training curves against the optimizer step, from a run's history (or a Keras ``History``).

    A ``val_<name>`` series is drawn dashed in the colour of ``<name>``.

    Parameters
    ----------
    history : dict or ``keras.callbacks.History``
        ``Run.history`` of :func:`voicelab.train.train_or_load` (the ``table`` is drawn,
        x = step), or a dict ``name -> list of float`` / ``model.fit``'s return value
        (x = epoch, from 1).
    keys : sequence of str, optional
        The series to draw (default: all).
    table : {"epochs", "steps"}
        Which table of a run's history: the epoch means (validation included) or the
        per-step values.

    Example
    -------
    >>> ax = losses({"steps": {}, "epochs": {"loss": [[10, 1.0], [20, 0.5]], "val_loss": [[10, 1.1], [20, 0.7]]}})
    >>> [line.get_label() for line in ax.get_lines()], ax.get_xlabel()
    (['loss', 'val_loss'], 'step')
    """
    history = getattr(history, "history", history)
    if not isinstance(history, Mapping) or not history:
        raise ParameterError(f"history must be a run's history, a dict of lists or a Keras History, "
                             f"got {type(history).__name__}")
    by_step = table in history and isinstance(history[table], Mapping)
    series = history[table] if by_step else history
    keys = list(series) if keys is None else list(keys)
    missing = [k for k in keys if k not in series]
    if missing:
        raise ParameterError(f"keys {missing} not in history (it has {list(series)})")
    ax = _new_axes(ax, (7, 3.5))
    colors: dict[str, Any] = {}
    for key in sorted(keys, key=lambda k: k.startswith("val_")):
        if by_step:
            points = np.asarray(series[key], dtype=float).reshape(-1, 2)
            x, values = points[:, 0], points[:, 1]
        else:
            values = np.asarray(series[key], dtype=float).ravel()
            x = np.arange(1, len(values) + 1)
        base = key.removeprefix("val_")
        style = {"linestyle": "--"} if key.startswith("val_") else {}
        if base in colors:
            style["color"] = colors[base]
        if len(x) < 10:
            style["marker"] = "."
        (line,) = ax.plot(x, values, label=key, **style)
        colors.setdefault(base, line.get_color())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step" if by_step else "epoch")
    ax.set_ylabel("value")
    ax.grid(True, alpha=0.3)
    if len(keys) > 4:       # many curves: the legend beside the axes, not over the curves
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        ax.legend()
    if title:
        ax.set_title(title)
    return ax


def alignment(
    log_attention: np.ndarray,
    path: np.ndarray,
    mel: np.ndarray,
    symbols: Sequence[str],
    *,
    config: AudioConfig,
    title: str = "",
) -> Figure:
    """An aligner's soft alignment with the monotonic path on it (top), durations over the mel (bottom).

    Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

    Parameters
    ----------
    log_attention : np.ndarray
        ``[frames, symbols]`` log-probabilities of one unpadded utterance.
    path : np.ndarray
        ``[frames, symbols]`` 0/1 monotonic alignment (``monotonic_alignment_search``).
    mel : np.ndarray
        ``[frames, n_mels]`` log-mel of the utterance.
    symbols : sequence of str
        The symbol names, one per column.

    Example
    -------
    >>> import numpy as np
    >>> path = np.array([[1, 0], [1, 0], [0, 1]])
    >>> fig = alignment(np.log(np.full((3, 2), 0.5)), path, np.zeros((3, 80)), ["AH0", "."],
    ...                 config=AudioConfig())
    >>> len(fig.axes) >= 2
    True
    """
    log_attention, path, mel = (np.asarray(a) for a in (log_attention, path, mel))
    if log_attention.shape != path.shape or log_attention.shape[0] != len(mel) \
            or log_attention.shape[1] != len(symbols):
        raise ParameterError(f"shapes do not match: log_attention {log_attention.shape}, path {path.shape}, "
                             f"mel {mel.shape}, {len(symbols)} symbols")
    n_frames, n_symbols = path.shape
    durations = path.sum(axis=0)
    fig, (ax_soft, ax_mel) = plt.subplots(2, 1, figsize=(12, 7), layout="constrained")
    ax_soft.imshow(np.exp(log_attention).T, origin="lower", aspect="auto", cmap="Blues", interpolation="nearest")
    frames, sym = np.nonzero(path)
    ax_soft.plot(frames, sym, color="tab:red", linewidth=1, label="monotonic alignment search")
    ax_soft.set(xlabel="mel frame", ylabel="symbol", title=title or "Soft alignment and the best monotonic path")
    ax_soft.set_yticks(np.arange(n_symbols), list(symbols), fontsize=6)
    ax_soft.legend(loc="upper left")
    spectrogram(mel, config=config, kind="mel", ax=ax_mel, title="Durations over the mel")
    bounds = np.cumsum(durations) * config.frame_seconds
    for start, end, s in zip(np.r_[0, bounds[:-1]], bounds, symbols):
        ax_mel.axvline(end, color="white", linewidth=0.5, alpha=0.7)
        ax_mel.text((start + end) / 2, config.n_mels - 6, s, color="white", fontsize=6, ha="center", rotation=90)
    return fig


def heatmap(
    values: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    *,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    fmt: str = "{:.2f}",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """A ``rows x cols`` matrix as coloured cells with each value written in (NaN left blank).

    For per-pair figures (source x target voice) and confusion matrices.

    Example
    -------
    >>> ax = heatmap(np.array([[0.9, 0.1], [0.2, np.nan]]), ["a", "b"], ["x", "y"])
    >>> [t.get_text() for t in ax.texts]
    ['0.90', '0.10', '0.20']
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(rows), len(cols)):
        raise ParameterError(f"values of shape {values.shape} do not match {len(rows)} rows x {len(cols)} cols")
    ax = _new_axes(ax, (1.2 + 0.9 * len(cols), 1.0 + 0.6 * len(rows)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            r, g, b, _ = image.cmap(image.norm(v))
            light = 0.299 * r + 0.587 * g + 0.114 * b > 0.5      # dark text on light cells
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8, color="black" if light else "white")
    ax.set_xticks(np.arange(len(cols)), list(cols), rotation=30, ha="right")
    ax.set_yticks(np.arange(len(rows)), list(rows))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.figure.colorbar(image, ax=ax, fraction=0.05)
    return ax


def codes_over_phonemes(
    mel: np.ndarray,
    codes: np.ndarray,
    phonemes: np.ndarray,
    symbols: Sequence[str],
    *,
    config: AudioConfig,
    title: str = "",
) -> Figure:
    """One utterance's log-mel with its phonemes (top), and the code of every frame under it (bottom).

    ``codes`` and ``phonemes`` are frame-level label arrays (the same length as ``mel``);
    ``symbols[i]`` names phoneme id ``i``. Introduced in ``notebooks/04_vqvae_voice_conversion.ipynb``.

    Example
    -------
    >>> fig = codes_over_phonemes(np.zeros((4, 80)), np.array([1, 1, 2, 2]), np.array([3, 3, 3, 4]),
    ...                           ["", "", "", "AH0", "B"], config=AudioConfig())
    >>> len(fig.axes) >= 2
    True
    """
    mel, codes, phonemes = np.asarray(mel), np.asarray(codes), np.asarray(phonemes)
    if not len(mel) == len(codes) == len(phonemes):
        raise ParameterError(f"mel ({len(mel)} frames), codes ({len(codes)}) and phonemes ({len(phonemes)}) "
                             "must have one entry per frame")
    fig, (ax_mel, ax_codes) = plt.subplots(2, 1, figsize=(12, 5.5), layout="constrained", sharex=True,
                                           height_ratios=(3, 2))
    spectrogram(mel, config=config, kind="mel", ax=ax_mel, title=title or "Phonemes over the mel",
                colorbar=False)
    t = np.arange(len(mel)) * config.frame_seconds
    change = np.flatnonzero(np.diff(phonemes)) + 1
    starts, ends = np.r_[0, change], np.r_[change, len(phonemes)]
    for start, end in zip(starts, ends):
        ax_mel.axvline(start * config.frame_seconds, color="white", linewidth=0.5, alpha=0.7)
        ax_mel.text((start + end) / 2 * config.frame_seconds, config.n_mels - 6, symbols[int(phonemes[start])],
                    color="white", fontsize=7, ha="center", rotation=90)
    used = np.unique(codes)
    rank = {c: i for i, c in enumerate(used)}
    ax_codes.scatter(t, [rank[c] for c in codes], c=codes % 20, cmap="tab20", s=6)
    for start in starts:
        ax_codes.axvline(start * config.frame_seconds, color="grey", linewidth=0.4, alpha=0.5)
    ax_codes.set(xlabel="time (s)", ylabel=f"code (rank among {len(used)} used)",
                 title="The code of each frame; grey lines: phoneme boundaries")
    return fig
