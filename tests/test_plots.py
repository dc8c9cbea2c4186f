"""voicelab.ui.plots on synthetic arrays: labels, units, extents, and clear errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from voicelab import ParameterError
from voicelab.dsp.features import AudioConfig
from voicelab.ui import plots

CFG = AudioConfig(sr=16000, n_fft=512, hop_length=128, win_length=512, n_mels=40)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_waveform_time_axis_in_seconds(rng):
    y = rng.uniform(-1, 1, 24000).astype("float32")
    ax = plots.waveform(y, sr=16000)
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "amplitude"
    assert ax.get_xlim() == pytest.approx((0.0, 1.5))
    assert len(ax.get_lines()[0].get_xdata()) == 24000


def test_waveform_rejects_stereo():
    with pytest.raises(ParameterError, match=r"shape \(2, 100\) \(rank 2\); expected rank 1"):
        plots.waveform(np.zeros((2, 100)), sr=16000)


def test_linear_spectrogram_extent_in_seconds_and_hz(rng):
    S = rng.normal(size=(100, CFG.n_freqs))
    ax = plots.spectrogram(S, config=CFG, kind="linear")
    left, right, bottom, top = ax.images[0].get_extent()
    dt, df = CFG.hop_length / CFG.sr, CFG.sr / CFG.n_fft
    # frame i centred on i * hop / sr; bin k centred on k * sr / n_fft
    assert (left, right) == pytest.approx((-dt / 2, 99.5 * dt))
    assert (bottom, top) == pytest.approx((-df / 2, CFG.sr / 2 + df / 2))
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "frequency (Hz)"
    # time-major input, transposed for imshow: rows are frequency bins
    assert ax.images[0].get_array().shape == (CFG.n_freqs, 100)
    assert len(ax.figure.axes) == 2  # the image and its colorbar
    assert ax.figure.axes[1].get_ylabel() == "dB"


def test_mel_spectrogram_has_band_axis(rng):
    ax = plots.spectrogram(rng.normal(size=(50, CFG.n_mels)), config=CFG, kind="mel", colorbar=False)
    assert ax.get_ylabel() == "mel band"
    assert ax.images[0].get_extent()[2:] == pytest.approx((-0.5, CFG.n_mels - 0.5))
    assert len(ax.figure.axes) == 1


def test_spectrogram_rejects_frequency_major_input(rng):
    with pytest.raises(ParameterError, match=r"S has 100 bins but config.n_mels=40"):
        plots.spectrogram(rng.normal(size=(CFG.n_mels, 100)), config=CFG, kind="mel")
    with pytest.raises(ParameterError, match="kind='cqt'"):
        plots.spectrogram(rng.normal(size=(10, CFG.n_mels)), config=CFG, kind="cqt")


def test_f0_overlay_blanks_unvoiced_frames(rng):
    f0 = np.full(60, 150.0)
    voiced = np.ones(60, dtype=bool)
    voiced[:10] = False
    ax = plots.f0_overlay(rng.normal(size=(60, CFG.n_freqs)), f0, voiced, config=CFG, harmonics=2)
    lines = ax.get_lines()
    assert len(lines) == 3  # f0, 2 f0, 3 f0
    ydata = np.asarray(lines[0].get_ydata(), dtype=float)
    assert np.isnan(ydata[:10]).all() and np.allclose(ydata[10:], 150.0)
    assert np.allclose(np.asarray(lines[2].get_ydata(), dtype=float)[10:], 450.0)
    assert lines[0].get_xdata()[1] == pytest.approx(CFG.hop_length / CFG.sr)
    assert ax.get_ylim() == pytest.approx((0, 1000))


def test_mel_filterbank_accepts_either_orientation(rng):
    fb = rng.uniform(size=(CFG.n_freqs, CFG.n_mels))
    for matrix in (fb, fb.T):
        ax = plots.mel_filterbank(matrix, config=CFG)
        assert len(ax.get_lines()) == CFG.n_mels
        assert ax.get_xlim() == pytest.approx((0, CFG.sr / 2))
        assert ax.get_xlabel() == "frequency (Hz)"
    with pytest.raises(ParameterError, match="expected 257 frequency bins"):
        plots.mel_filterbank(np.ones((10, 20)), config=CFG)


def test_feature_grid_rows_by_cols_on_one_scale(rng):
    rows, cols = ["slt", "bdl"], ["neutral", "happy", "sad"]
    specs = {(r, c): rng.normal(size=(30 + 5 * i, CFG.n_mels)) for i, (r, c) in
             enumerate((r, c) for r in rows for c in cols)}
    del specs["bdl", "sad"]
    fig = plots.feature_grid(specs, rows=rows, cols=cols, config=CFG)
    cells = fig.axes[: len(rows) * len(cols)]
    assert len(fig.axes) == len(rows) * len(cols) + 1  # plus one shared colorbar
    assert [ax.get_title() for ax in cells[:3]] == cols
    assert cells[0].get_ylabel().startswith("slt") and cells[3].get_ylabel().startswith("bdl")
    assert not cells[5].images  # the missing cell stays empty
    climits = {ax.images[0].get_clim() for ax in cells if ax.images}
    assert len(climits) == 1
    # one time axis for all, as long as the longest cell (index 4: 30 + 5 * 4 frames)
    longest = tuple(cells[4].images[0].get_extent()[:2])
    assert {tuple(ax.get_xlim()) for ax in cells} == {longest}


def test_feature_grid_rejects_unknown_keys(rng):
    with pytest.raises(ParameterError, match="outside rows"):
        plots.feature_grid({("x", "happy"): rng.normal(size=(5, 40))}, rows=["slt"], cols=["happy"], config=CFG)


@pytest.mark.parametrize("kind", ["violin", "box", "hist"])
def test_distributions_one_entry_per_label(rng, kind):
    values = {"neutral": rng.normal(120, 10, 200), "happy": rng.normal(200, 30, 150),
              "sad": np.array([np.nan, np.nan])}
    ax = plots.distributions(values, kind=kind)
    if kind == "hist":
        assert ax.get_xlabel() == "f0 (Hz)"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "neutral (n=200)", "happy (n=150)", "sad (n=0)"]
    else:
        assert ax.get_ylabel() == "f0 (Hz)"
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "neutral\n(n=200)", "happy\n(n=150)", "sad\n(n=0)"]


def test_convergence_one_curve_per_label():
    ax = plots.convergence({"32 mels": [0.5, 0.3, 0.2], "80 mels": [0.4, 0.2, 0.1, 0.05]})
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "iteration" and ax.get_ylabel() == "spectral convergence"
    assert list(ax.get_lines()[1].get_xdata()) == [1, 2, 3, 4]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["32 mels", "80 mels"]


def test_losses_pairs_validation_curves_with_training_colours():
    class History:  # what keras.Model.fit returns, reduced to what losses reads
        history = {"val_loss": [1.2, 0.9], "loss": [1.0, 0.6], "mae": [0.5, 0.4]}

    ax = plots.losses(History())
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"loss", "val_loss", "mae"}
    assert lines["val_loss"].get_color() == lines["loss"].get_color()
    assert lines["val_loss"].get_linestyle() == "--"
    assert ax.get_xlabel() == "epoch"
    with pytest.raises(ParameterError, match=r"keys \['acc'\] not in history"):
        plots.losses({"loss": [1.0]}, keys=["acc"])


def test_functions_draw_on_a_given_axes(rng):
    fig, axes = plt.subplots(1, 2)
    assert plots.waveform(rng.normal(size=100), sr=100, ax=axes[0]) is axes[0]
    assert plots.convergence([0.3, 0.2], ax=axes[1]) is axes[1]
    assert len(plt.get_fignums()) == 1
