"""voicelab.ui.widgets without a front-end: players embed audio, grids have the right shape,
and the Griffin-Lim explorer's compute improves with iterations."""

from __future__ import annotations

import base64
import io
import re
import wave

import numpy as np
import pytest

from voicelab import ParameterError
from voicelab.dsp.audio import save
from voicelab.dsp.features import AudioConfig
from voicelab.ui import widgets

SR = 16000


def _tone(hz: float, seconds: float = 0.5, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _embedded_wavs(html: str) -> list[wave.Wave_read]:
    """Every WAV embedded as a data URI in ``html``, opened."""
    return [wave.open(io.BytesIO(base64.b64decode(b64)))
            for b64 in re.findall(r'src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"', html)]


def test_player_embeds_a_playable_wav_with_its_label():
    p = widgets.player(_tone(220), sr=SR, label="slt <happy>")
    (wav,) = _embedded_wavs(p.value)
    assert wav.getframerate() == SR and wav.getnframes() == SR // 2 and wav.getnchannels() == 1
    assert "slt &lt;happy&gt;" in p.value  # the label is escaped, not injected


def test_player_has_a_static_html_fallback():
    p = widgets.player(_tone(220), sr=SR)
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live front-ends
    assert bundle["text/html"] == p.value                         # static HTML viewers


def test_player_keeps_level_without_normalize():
    def peak(p):
        wav = _embedded_wavs(p.value)[0]
        return np.abs(np.frombuffer(wav.readframes(wav.getnframes()), "<i2")).max()

    quiet = _tone(220, amplitude=0.1)
    assert peak(widgets.player(quiet, sr=SR)) > 32000           # scaled to full scale
    assert peak(widgets.player(quiet, sr=SR, normalize=False)) == pytest.approx(3277, abs=2)
    assert _embedded_wavs(widgets.player(np.zeros(800, np.float32), sr=SR).value)  # silence plays


def test_player_rejects_bad_input():
    with pytest.raises(ParameterError, match="sr=0"):
        widgets.player(_tone(220), sr=0)
    with pytest.raises(ParameterError, match="rank 2"):
        widgets.player(np.zeros((2, 100), np.float32), sr=SR)


def test_player_grid_has_headers_and_one_player_per_clip(tmp_path):
    rows, cols = ["slt", "bdl", "rms"], ["neutral", "happy"]
    path = save(tmp_path / "clip.wav", _tone(330), sr=SR)
    clips = {("slt", "neutral"): (_tone(220), SR), ("slt", "happy"): path,
             ("bdl", "neutral"): (_tone(110), SR), ("rms", "happy"): str(path)}
    grid = widgets.player_grid(clips, rows=rows, cols=cols)
    assert grid.shape == (3, 2)
    assert len(grid.children) == (len(rows) + 1) * (len(cols) + 1)  # plus header row and column
    assert grid.layout.grid_template_columns.startswith("max-content repeat(2,")
    assert [c.value for c in grid.children[1:3]] == ["<b>neutral</b>", "<b>happy</b>"]
    assert grid.children[3].value == "<b>slt</b>"
    assert grid.children[11] is grid.players["rms", "happy"]
    assert grid.children[10].value == "&mdash;"  # rms/neutral is missing
    assert len(_embedded_wavs(grid._repr_mimebundle_()["text/html"])) == len(clips)


def test_player_grid_rejects_keys_outside_the_grid():
    with pytest.raises(ParameterError, match="outside rows"):
        widgets.player_grid({("slt", "angry"): (_tone(220), SR)}, rows=["slt"], cols=["happy"])
    with pytest.raises(ParameterError, match=r"must be \(y, sr\) or an audio file path"):
        widgets.player_grid({("slt", "happy"): _tone(220)}, rows=["slt"], cols=["happy"])


@pytest.fixture(scope="module")
def voiced_clip() -> np.ndarray:
    """A gliding harmonic tone with a vibrato: speech-like, and hard to phase exactly."""
    t = np.arange(int(0.8 * SR)) / SR
    phase = 2 * np.pi * np.cumsum(140 + 40 * t + 8 * np.sin(2 * np.pi * 5 * t)) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def test_explore_reconstruction_improves_with_iterations(voiced_clip):
    cfg = AudioConfig(sr=SR, n_fft=512, hop_length=128, win_length=512)
    sc = {}
    for n_iter in (1, 8, 64):
        audio, sc[n_iter] = widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=n_iter, config=cfg)
        assert audio.shape == voiced_clip.shape and audio.dtype == np.float32
    assert sc[1] > sc[8] > sc[64]
    assert sc[64] < 0.5 * sc[1]


def test_explore_reconstruction_through_mels_loses_more_with_fewer_bands(voiced_clip):
    cfg = AudioConfig(sr=SR, n_fft=512, hop_length=128, win_length=512)
    _, linear = widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=32, config=cfg)
    _, mel80 = widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=32, n_mels=80, config=cfg)
    _, mel10 = widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=32, n_mels=10, config=cfg)
    assert linear < mel80 < mel10


def test_explore_reconstruction_rejects_bad_arguments(voiced_clip):
    with pytest.raises(ParameterError, match="n_iter=0"):
        widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=0)
    with pytest.raises(ParameterError, match="config.sr=22050 does not match sr=16000"):
        widgets.explore_reconstruction(voiced_clip, sr=SR, n_iter=1, config=AudioConfig(sr=22050, fmax=None))


def test_griffin_lim_explorer_renders_a_result_without_a_front_end(voiced_clip):
    cfg = AudioConfig(sr=SR, n_fft=512, hop_length=128, win_length=512)
    box = widgets.griffin_lim_explorer(voiced_clip, config=cfg, n_iter=4)
    assert "spectral convergence" in box.result.value
    assert len(_embedded_wavs(box.reconstruction.value)) == 1
    first = box.result.value
    box.sliders["n_iter"].value = 64  # what moving the slider does
    assert box.result.value != first and "after 64 iterations" in box.result.value
    assert box.sliders["hop_length"].options == (32, 64, 128)
    assert len(_embedded_wavs(box._repr_mimebundle_()["text/html"])) == 2


def test_replace_output_writes_players_and_figures_into_the_widget_state():
    """What the TTS and conversion widgets show first is stored without capturing a cell's output."""
    import ipywidgets
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = ipywidgets.Output()
    fig = plt.figure()
    widgets.replace_output(out, widgets.player(_tone(220), sr=SR, label="first"), fig)
    assert [sorted(o["data"]) for o in out.outputs][1] == ["image/png", "text/plain"]
    assert "first" in out.outputs[0]["data"]["text/html"]
    assert not plt.fignum_exists(fig.number)                      # closed once rendered
    widgets.replace_output(out, ipywidgets.HTML("<b>bad text</b>"))
    assert len(out.outputs) == 1                                  # replaced, not appended
