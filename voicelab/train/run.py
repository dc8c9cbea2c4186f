"""``train_or_load``: the one way every model of the kit is trained, saved and loaded.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; the aligner, the TTS models and
the MelGAN vocoder (notebook 03) all train through it, and so do the models of the
later notebooks. It owns what every training run needs, once:

- a **run folder** with one layout (below), one per trained model;
- **resume**: the whole state (weights, optimizers, step counter, history, seconds
  trained) is checkpointed every ``checkpoint_every`` steps and at each epoch end, so
  calling ``train_or_load`` again after a crash, a Ctrl-C or ``kill -9`` continues
  from the last save instead of starting over;
- the **blow-up guard** (:class:`~voicelab.train.callbacks.BlowUpGuard`): a NaN or
  exploding loss restores the last good weights, lowers the learning rate, is logged
  in the history's ``events``, and training goes on;
- **one history format** (:mod:`voicelab.train.history`) and TensorBoard logs;
- **phases**: a model trained in stages (a GAN's generator warm-up, then the GAN)
  gives ``phases=[Phase("warmup", 14), Phase("gan", 3)]``; before each stage the
  model's ``set_phase(name)`` is called, and a resumed run skips finished stages;
- Keras's progress bars (``verbose``);
- a **warning** when a finished run is loaded, or an unfinished one resumed, for another
  configuration than the one it was trained with (a recipe edited in a notebook, a kit
  update): the warning names each changed value and how to train afresh; a checkpoint
  whose weights no longer fit the model is a ``ParameterError`` saying the same.
  Recipes pass as ``config`` what makes the model (``Recipe.defining_fields``), not what
  only scores or shows it.

Run folder layout::

    <folder>/model.keras        the finished model (``export(model)``; what loading returns)
    <folder>/run.json           name, configuration, backend, steps, epochs, seconds, figures
    <folder>/history.json       {"steps": {...}, "epochs": {...}, "events": [...]}
    <folder>/audio.npz          audio snapshots taken during training (vocoders)
    <folder>/checkpoint/        the resumable state (kept: it is what a resume reads)
    <folder>/logs/              TensorBoard: ``tensorboard --logdir DATA_DIR/models``

Example
-------
>>> import tempfile, numpy as np, keras
>>> def build():
...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
...     model.compile(optimizer="adam", loss="mse")
...     return model
>>> x = np.ones((8, 2), "float32")
>>> folder = tempfile.mkdtemp()
>>> run = train_or_load(folder, build=build, train=(x, x[:, :1]), epochs=2, verbose=0)
>>> run.loaded, run.info["epochs"], sorted(run.history["epochs"])
(False, 2, ['loss'])
>>> train_or_load(folder, build=build, train=(x, x[:, :1]), epochs=2).loaded
True
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from voicelab.errors import ParameterError
from voicelab.train.callbacks import BlowUpGuard, Checkpoint, global_step
from voicelab.train.history import (
    AudioSnapshots,
    HistoryLogger,
    TensorBoardWriter,
    load_audio,
    new_history,
    save_audio,
    truncate,
)

MODEL, INFO, HISTORY, CHECKPOINT, LOGS = ("model.keras", "run.json", "history.json", "checkpoint", "logs")
RETRAIN_HINT = "Pass retrain=True (RETRAIN = True in a notebook)"
"""How the warnings about another configuration say to train afresh."""


@dataclasses.dataclass(frozen=True)
class Phase:
    """One stage of training: ``epochs`` epochs with the model in phase ``name``."""

    name: str
    epochs: int

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise ParameterError(f"Phase {self.name!r}: epochs={self.epochs!r} must be an integer >= 0")


@dataclasses.dataclass
class Run:
    """A trained (or loaded) model and what its run folder holds.

    Attributes
    ----------
    folder : Path
    model : keras.Model
        The exported model (``model.keras``).
    info : dict
        ``run.json``: ``name``, ``config``, ``backend``, ``steps``, ``epochs``, ``seconds``,
        ``parameters``, ``resumed_at_step`` (``None`` for a run trained in one go), ``figures``.
    history : dict
        See :mod:`voicelab.train.history`.
    audio : list of (step, waves [B, samples])
        Audio snapshots taken during training (empty for models that make no audio).
    loaded : bool
        True when the model was loaded, not trained, by this call.
    """

    folder: Path
    model: keras.Model
    info: dict
    history: dict
    audio: list
    loaded: bool

    @property
    def seconds(self) -> float:
        """Seconds of training, resumed parts included."""
        return float(self.info["seconds"])

    def record(self, **figures) -> None:
        """Add headline figures (metrics of an evaluation) to ``run.json``'s ``figures``."""
        self.info.setdefault("figures", {}).update(_jsonable(figures))
        _write_json(self.folder / INFO, self.info)


def is_trained(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds a finished run (``model.keras`` and ``run.json``)."""
    folder = Path(folder)
    return (folder / MODEL).is_file() and (folder / INFO).is_file()


def load_run(folder: str | os.PathLike, *, hint: str = "", config=None) -> Run:
    """The finished run in ``folder``; :class:`ParameterError` (with ``hint``) when there is none.

    With ``config``, a ``UserWarning`` names every value that differs from the configuration
    the run was trained with (:func:`config_changes`); the run is loaded as trained.
    """
    folder = Path(folder)
    if not is_trained(folder):
        raise ParameterError(f"no trained model in {str(folder)!r} (it needs {MODEL} and {INFO})"
                             + (f": {hint}" if hint else ""))
    info = json.loads((folder / INFO).read_text())
    for module in info.get("modules", []):    # registers the model's layers with Keras's loader
        importlib.import_module(module)
    history = json.loads((folder / HISTORY).read_text()) if (folder / HISTORY).is_file() else new_history()
    changes = config_changes(info.get("config"), config) if config is not None else []
    if changes:
        warnings.warn(f"{folder} was trained with another configuration ({'; '.join(changes)}): it is loaded as it "
                      f"was trained. {RETRAIN_HINT} to train it with this one.",
                      UserWarning, stacklevel=2)
    return Run(folder, keras.models.load_model(folder / MODEL), info, history, load_audio(folder), True)


def train_or_load(
    folder: str | os.PathLike,
    *,
    build: Callable[[], keras.Model],
    train,
    epochs: int | None = None,
    phases: Sequence[Phase] | None = None,
    valid=None,
    steps_per_epoch: int | None = None,
    retrain: bool = False,
    config=None,
    export: Callable[[keras.Model], keras.Model] | None = None,
    snapshot_mels: np.ndarray | None = None,
    sr: int | None = None,
    checkpoint_every: int | None = None,
    log_every: int = 10,
    guard: BlowUpGuard | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> Run:
    """Load the finished run in ``folder``, or train it (resuming a checkpoint) and save it.

    Parameters
    ----------
    folder : path
        The run folder (layout in the module docstring); created.
    build : callable
        Returns a fresh, compiled model. Called only when training.
    train, valid
        What ``model.fit`` takes: a ``keras.utils.PyDataset`` (the kit's pipelines), or
        an ``(inputs, targets)`` pair of arrays.
    epochs, phases
        How long: ``epochs`` for one stage, or ``phases`` for several (exactly one).
    steps_per_epoch : int, optional
        Passed to ``fit``; ``None`` means one pass over ``train``. It must divide the
        number of batches of ``train``: Keras ends an epoch early where a pass over the
        data runs out, and the steps are lost.
    retrain : bool
        Delete the folder and train from scratch, even if a finished model is there.
    config : dataclass or mapping, optional
        The configuration saved in ``run.json`` (the recipe's).
    export : callable, optional
        ``model -> model to save and return`` (MelGAN: its folded generator). Default: the model.
    snapshot_mels, sr
        ``[B, frames, n_mels]`` mels vocoded at every epoch end (see
        :class:`~voicelab.train.history.AudioSnapshots`), for models that make audio.
    checkpoint_every : int, optional
        Also checkpoint every that many steps (default: at each epoch end only).
    log_every : int
        Record the step logs every that many steps.
    guard : BlowUpGuard, optional
        The guard to use (default: ``BlowUpGuard()``).
    callbacks : sequence
        Extra Keras callbacks (e.g. :class:`~voicelab.train.callbacks.InterruptAfter`).
    verbose : int or "auto"
        Keras's progress display: 1 a bar per epoch, 2 a line per epoch, 0 silent.

    Returns
    -------
    Run
    """
    folder = Path(folder)
    stages = _stages(epochs, phases)
    n_batches = len(train) if hasattr(train, "__len__") and not isinstance(train, tuple) else None
    if steps_per_epoch is not None and n_batches and n_batches % steps_per_epoch:
        raise ParameterError(f"steps_per_epoch={steps_per_epoch} does not divide the {n_batches} batches of train: "
                             "Keras would end every epoch that runs out of data early and lose steps")
    if is_trained(folder) and not retrain:
        return load_run(folder, config=config)
    if retrain and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)

    model = build()
    history, clock = new_history(), _Clock()
    saved_config = _jsonable(config)
    checkpoint = Checkpoint(folder / CHECKPOINT, every_n_steps=checkpoint_every,
                            extra_state=lambda: {"history": history, "seconds": clock.seconds(),
                                                 "config": saved_config})
    saved = checkpoint.saved_state()
    changes = config_changes(saved["config"], config) if config is not None and "config" in saved else []
    if changes:
        warnings.warn(f"{folder} holds an unfinished run of another configuration ({'; '.join(changes)}): it "
                      f"resumes from that run's checkpoint, so the model mixes both. {RETRAIN_HINT} to start "
                      "afresh with this one.", UserWarning, stacklevel=2)
    try:
        initial_epoch, state = checkpoint.restore(model)
    except ValueError as error:    # Keras: the saved variables do not fit the model's shapes
        if not changes:
            raise
        raise ParameterError(f"cannot resume {folder}: its checkpoint was trained with another configuration "
                             f"({'; '.join(changes)}). {RETRAIN_HINT} to start afresh.") from error
    resumed_at = int(state["step"]) if state else None
    if state:                      # a mid-epoch save: drop what was logged after it
        history.update(truncate(state.get("history", {}), resumed_at))
        clock.previous = float(state.get("seconds", 0.0))
    guard = guard or BlowUpGuard()
    guard.events = history["events"]
    writer = TensorBoardWriter(folder / LOGS)     # one writer for the losses and the audio
    fit_callbacks = [guard, HistoryLogger(history, writer, every_n_steps=log_every)]
    snapshots = None
    if snapshot_mels is not None:
        if sr is None:
            raise ParameterError("snapshot_mels needs sr, the sample rate of the audio")
        snapshots = AudioSnapshots(snapshot_mels, sr=sr, log_dir=writer, directory=folder / CHECKPOINT)
        snapshots.audio.extend(load_audio(folder / CHECKPOINT, up_to_step=resumed_at))
        fit_callbacks.append(snapshots)
    fit_callbacks += [checkpoint, *callbacks]     # the guard first: a recovered step is never saved

    inputs = train if isinstance(train, tuple) else (train,)   # (x, y) arrays or one dataset
    end = 0
    for stage in stages:
        end += stage.epochs
        if initial_epoch >= end:   # a resumed run skips the stages it finished
            continue
        if hasattr(model, "set_phase"):
            model.set_phase(stage.name)
        clock.start()
        try:
            model.fit(*inputs, validation_data=valid, epochs=end, initial_epoch=initial_epoch,
                      steps_per_epoch=steps_per_epoch, callbacks=fit_callbacks, verbose=verbose)
        finally:
            clock.stop()
        initial_epoch = end
        if model.stop_training:    # the guard ran out of recoveries
            break

    exported = export(model) if export is not None else model
    exported.save(folder / MODEL)
    if snapshots is not None:
        save_audio(folder, snapshots.audio)
    _write_json(folder / HISTORY, history)
    info = {
        "name": folder.name,
        "config": saved_config,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "phases": [dataclasses.asdict(s) for s in stages],
        "epochs": initial_epoch,
        "steps": global_step(model),
        "seconds": round(clock.seconds(), 1),
        "parameters": int(exported.count_params()),
        "resumed_at_step": resumed_at,
        "stopped_by_guard": bool(model.stop_training),
        "modules": _modules(exported),
        "figures": {},
    }
    _write_json(folder / INFO, info)
    audio = snapshots.audio if snapshots is not None else []
    return Run(folder, exported, info, history, audio, False)


def config_changes(saved, config, *, path: str = "") -> list[str]:
    """What differs between a run's saved configuration and ``config``: ``["name: old -> new", ...]``.

    Mappings (and dataclasses) are compared key by key; a key that only one side has is
    not a change (a field added to a recipe later keeps the old behaviour by default).

    Example
    -------
    >>> config_changes({"recipe": {"epochs": 42, "lr": 0.002}}, {"recipe": {"epochs": 70, "lr": 0.002, "new": 1}})
    ['recipe.epochs: 42 -> 70']
    """
    return _differences(json.loads(json.dumps(_jsonable(saved))), json.loads(json.dumps(_jsonable(config))), path)


def _differences(saved, config, path: str) -> list[str]:
    """:func:`config_changes` on two configurations already read back from JSON."""
    if not isinstance(saved, dict) or not isinstance(config, dict):
        return [] if saved == config else [f"{path or 'config'}: {saved!r} -> {config!r}"]
    changes = []
    for key in sorted(saved.keys() & config.keys()):
        changes += _differences(saved[key], config[key], f"{path}.{key}" if path else key)
    return changes


# ----------------------------------------------------------------------------- helpers
def _stages(epochs, phases) -> list[Phase]:
    if (epochs is None) == (phases is None):
        raise ParameterError("give exactly one of epochs= (one stage) or phases= (several)")
    stages = [Phase("train", epochs)] if phases is None else list(phases)
    if not stages or sum(s.epochs for s in stages) < 1:
        raise ParameterError(f"nothing to train: {stages}")
    return stages


class _Clock:
    """Seconds spent in ``fit``, this process's and those of the runs it resumed."""

    def __init__(self) -> None:
        self.previous, self._total, self._since = 0.0, 0.0, None

    def start(self) -> None:
        self._since = time.perf_counter()

    def stop(self) -> None:
        self._total += time.perf_counter() - self._since
        self._since = None

    def seconds(self) -> float:
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self.previous + self._total + running


def _modules(model: keras.Model) -> list[str]:
    """The voicelab modules that define the model's classes (imported before loading).

    The model and every layer inside it, however deep: layers are found in attributes and
    in the lists, tuples and dicts attributes hold (Keras tracks the same; it has no public
    recursive walk: ``Model.layers`` is one level, and plain layers have none).
    """
    modules, seen, todo = set(), set(), [model]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, keras.layers.Layer):
            modules.add(type(item).__module__)
            todo.extend(vars(item).values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return sorted(module for module in modules if module.startswith("voicelab."))


def _jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1, allow_nan=True))
    os.replace(tmp, path)
