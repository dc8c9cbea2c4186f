"""The notebook registry: every numbered notebook, its recipe, what it needs and what it costs.

One entry per notebook. ``scripts/run_notebooks.py`` (``make run``, ``make run ONLY=03``),
the test suite's notebook order and the README's notebook table are all read from
:data:`NOTEBOOKS`, so a new notebook is one entry here and one recipe.

A notebook *needs* shared artifacts (the kit's vocoder, notebook 02's TTS, ...). Each
:class:`Artifact` is taught by one notebook; some can also be trained on their own
by ``python -m voicelab train NAME`` (the same recipe and run folder the notebook
uses), which is how a fresh run breaks the one cycle of the kit: notebook 02 speaks
through the kit's vocoder, notebook 03 (which teaches it) adapts it to notebook 02's
mels. :func:`run_order` resolves the needs of the notebooks asked for.

This module is plain data at the bottom of the package (it imports only
:mod:`voicelab.errors`), so any layer may read it. :mod:`voicelab.artifacts` knows how to
find, load and train each artifact.

Example
-------
>>> [n.number for n in NOTEBOOKS][:3]
['01', '02', '03']
>>> [step.name for step in run_order(["03"], ready=lambda artifact: False)]
['train vocoder', '02_tts_cnn_bilstm', '03_melgan_vocoder']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from voicelab.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A trained model that notebooks share.

    Attributes
    ----------
    name : str
        The key notebooks name it by (``"vocoder"``).
    what : str
        One line for messages and tables.
    notebook : str
        The number of the notebook that teaches and trains it.
    trainable_alone : bool
        ``python -m voicelab train NAME`` trains it without its notebook (it needs only
        the corpus), into the run folder its notebook then loads.
    """

    name: str
    what: str
    notebook: str
    trainable_alone: bool = False


@dataclasses.dataclass(frozen=True)
class Notebook:
    """One numbered notebook.

    Attributes
    ----------
    number : str
        ``"01"`` ... (the file name's prefix).
    slug : str
        The rest of the file name: ``notebooks/<number>_<slug>.ipynb``.
    title : str
    learns : str
        What a student learns, for the README's table.
    recipe : str or None
        The recipe module it trains through (``voicelab.recipes.tts``); ``None`` if it trains nothing.
    needs : tuple of str
        Artifacts (keys of :data:`ARTIFACTS`) it loads from other notebooks.
    results : str
        Its results page (``docs/results/...``): the measured runs, commands and commits.
    typical : mapping
        Figure name -> ``(value, what it measures)`` of a typical ``quick`` run, from the
        results page: what the notebook prints next to the figures of the reader's own run
        (:func:`voicelab.ui.typical.against_typical`), so its prose needs no frozen numbers.
    quick_minutes : float
        Measured minutes of a ``quick`` run top to bottom on 2 CPU cores, training its own
        models, with the corpus and what it needs already there (02-05: a fresh
        ``make run ONLY=03`` then ``ONLY="04 05"`` on 2026-12-07, TensorFlow; notebook 03
        then loads the kit's vocoder, trained alone before notebook 02 in about 10 more).
    """

    number: str
    slug: str
    title: str
    learns: str
    recipe: str | None
    needs: tuple[str, ...]
    quick_minutes: float
    results: str = ""
    typical: Mapping[str, tuple[float, str]] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        """``01_audio_features``: the file name without ``.ipynb``."""
        return f"{self.number}_{self.slug}"

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"


ARTIFACTS: dict[str, Artifact] = {a.name: a for a in (
    Artifact("vocoder", "the kit's vocoder (iSTFT head with the mel pseudo-inverse as magnitude prior)", "03",
             trainable_alone=True),
    Artifact("aligner", "the aligner learned in the kit (forward-sum loss + monotonic alignment search)", "02",
             trainable_alone=True),
    Artifact("tts", "the CNN+BiLSTM TTS model with a speaker id", "02"),
    Artifact("vqvae", "the VQ-VAE voice converter with a speaker id", "04"),
    Artifact("recogniser", "the spoken-command recogniser (CTC transcript, intent head), trained on synthetic "
                           "speech with augmentation", "06"),
)}
"""The shared artifacts, by name."""

NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook("01", "audio_features", "Audio features",
             "waveforms, STFT, mel filterbank, log-mel, MFCC, f0, energy; speakers and emotions compared; "
             "Griffin-Lim with an interactive explorer",
             recipe=None, needs=(), quick_minutes=0.6,
             results="docs/results/01_features.md",
             typical={"sc_linear": (0.047, "spectral convergence, 32 Griffin-Lim iterations from the linear "
                                           "magnitude (typical: benchmark, mean of 16 quick-corpus clips)"),
                      "sc_mel": (0.369, "spectral convergence, 32 iterations from the 80-band mel, against "
                                        "the linear magnitude (typical: the same benchmark)"),
                      "run_seconds": (35.0, "seconds to run the notebook, corpus already built (2 CPU cores)")}),
    Notebook("02", "tts_cnn_bilstm", "Text to speech: a CNN+BiLSTM model",
             "text front-end; an aligner learned in the kit; a CNN+BiLSTM TTS with durations; speaker id vs "
             "cloning from a reference clip; what limits intelligibility; emotions with a variance adaptor",
             recipe="voicelab.recipes.tts", needs=("vocoder",), quick_minutes=12,
             results="docs/results/02_tts.md",
             typical={"wer_ratio": (1.82, "WER ratio, speaker-id model, Griffin-Lim (synthetic / recording)"),
                      "mcd": (7.99, "MCD dB, speaker-id model, Griffin-Lim"),
                      "similarity": (0.811, "speaker similarity, speaker-id model, Griffin-Lim"),
                      "reference_wer_ratio": (1.85, "WER ratio, reference-encoder model (warm start), Griffin-Lim"),
                      "reference_similarity": (0.819, "speaker similarity, reference-encoder model, Griffin-Lim"),
                      "emotion_wer_ratio": (1.87, "WER ratio, emotion model, the neutral test sentences, Griffin-Lim"),
                      "kit_vocoder_wer_ratio": (1.71, "WER ratio, speaker-id model, kit's vocoder (typical: 15 "
                                                      "sentences a speaker, where Griffin-Lim gave 1.71 too)"),
                      "kit_vocoder_similarity": (0.861, "speaker similarity, speaker-id model, kit's vocoder (typical: "
                                                        "15 sentences a speaker, where Griffin-Lim gave 0.819)")}),
    Notebook("03", "melgan_vocoder", "Neural vocoders: MelGAN and the kit's iSTFT vocoder",
             "MelGAN (generator, multi-scale discriminator, feature matching), an ablation, the iSTFT "
             "vocoder; PESQ, STOI, MCD against Griffin-Lim; a listening test; adapting to the TTS's mels",
             recipe="voicelab.recipes.vocoder", needs=("tts", "aligner"), quick_minutes=7,
             results="docs/results/03_vocoders.md",
             typical={"istft_pesq_wb": (2.52, "PESQ-WB, iSTFT vocoder (the kit's), test split"),
                      "gl_pesq_wb": (2.43, "PESQ-WB, Griffin-Lim 64 iterations, test split"),
                      "istft_stoi": (0.948, "STOI, iSTFT vocoder, test split"),
                      "gl_stoi": (0.940, "STOI, Griffin-Lim 64 iterations, test split"),
                      "istft_mcd": (4.42, "MCD dB, iSTFT vocoder, test split"),
                      "melgan_pesq_wb": (1.11, "PESQ-WB, MelGAN, test split")}),
    Notebook("04", "vqvae_voice_conversion", "Voice conversion with a VQ-VAE",
             "the bottleneck in bits per second; vector quantisation; speaker id vs resemblyzer voice; "
             "codes vs phonemes and speakers; every conversion scored against a parallel recording",
             recipe="voicelab.recipes.conversion", needs=("vocoder", "aligner"), quick_minutes=23,
             results="docs/results/04_conversion.md",
             typical={"closer_to_target": (1.0, "share of conversions closer to the target than the source"),
                      "sim_target": (0.808, "speaker similarity to the target's recording (cosine)"),
                      "sim_source": (0.571, "speaker similarity to the source recording (cosine)"),
                      "wer": (0.74, "WER of the conversions (sources through the same vocoder: 0.31)"),
                      "nmi_phonemes": (0.36, "NMI of the codes with the aligner's phonemes"),
                      "nmi_speakers": (0.09, "NMI of the codes with the speakers (the voice's leak)")}),
    Notebook("05", "emotional_voice_cloning", "Emotional voice cloning: SpeechSplit, VoiceGAN, CodeGAN",
             "rhythm, content and pitch codes with narrow bottlenecks; an emotion judge; swaps between "
             "parallel renditions; VoiceGAN's new voices; CodeGAN's emotions without a parallel recording",
             recipe="voicelab.recipes.speechsplit", needs=("vocoder",), quick_minutes=21,
             results="docs/results/05_emotional_cloning.md",
             typical={"judge_accuracy": (0.95, "the judge's accuracy on the real test clips (chance 0.25)"),
                      "swap_accuracy": (0.79, "judge accuracy, rhythm+pitch swaps from the neutral clip"),
                      "pitch_swap_accuracy": (0.08, "judge accuracy, pitch-only swaps"),
                      "swap_wer": (0.91, "WER of the rhythm+pitch swaps (vocoded recordings: 0.07)"),
                      "codegan_accuracy": (0.83, "judge accuracy, CodeGAN from the neutral clip alone"),
                      "new_voice_wer_ratio": (1.01, "WER ratio, VoiceGAN's new voices / training voices")}),
    Notebook("06", "spoken_command_data", "Spoken-command datasets of any size, and a recogniser",
             "a grammar with designed coverage and four held-out splits; many voices; rooms and noise with an "
             "audit of their randomness; shards on Dask; a CTC recogniser that proves the data is worth having",
             recipe="voicelab.recipes.recogniser", needs=("tts", "vocoder"), quick_minutes=43,
             results="docs/results/06_command_data.md",
             typical={"voices_intent": (0.996, "intent accuracy, augmented model, unseen voices, clean (target 0.95)"),
                      "phrasings_intent": (0.872, "intent accuracy, augmented model, unseen phrasings, clean "
                                                  "(target 0.85)"),
                      "values_intent": (1.000, "intent accuracy, augmented model, unseen slot values, clean"),
                      "noise_intent": (0.856, "intent accuracy, augmented model, unseen noise and rooms"),
                      "synthetic_voices_wer": (0.242, "WER, synthetic-only model, unseen voices, clean"),
                      "train_minutes": (13.7, "minutes of training, the three recognisers (budget 15)")}),
)
"""Every numbered notebook, in number order."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a run: a notebook to execute, or an artifact to train on its own."""

    kind: str            # "notebook" or "train"
    target: str          # a notebook number or an artifact name

    @property
    def name(self) -> str:
        return notebook(self.target).name if self.kind == "notebook" else f"train {self.target}"


def notebook(number: str | int) -> Notebook:
    """The registry entry of notebook ``number`` (``"03"``, ``3`` or ``"03_melgan_vocoder"``).

    >>> notebook(3).title
    "Neural vocoders: MelGAN and the kit's iSTFT vocoder"
    """
    key = f"{number:02d}" if isinstance(number, int) else str(number).split("_")[0].zfill(2)
    for entry in NOTEBOOKS:
        if entry.number == key:
            return entry
    raise ParameterError(f"no notebook {number!r}: the notebooks are {', '.join(n.number for n in NOTEBOOKS)}")


def artifact(name: str) -> Artifact:
    """The registry entry of artifact ``name``."""
    if name not in ARTIFACTS:
        raise ParameterError(f"no artifact {name!r}: the shared artifacts are {', '.join(ARTIFACTS)}")
    return ARTIFACTS[name]


def run_order(numbers: Iterable[str | int] | None = None, *,
              ready: Callable[[str], bool] = lambda name: False) -> list[Step]:
    """The steps that run ``numbers`` (default: every notebook) with whatever they need.

    Notebooks run in number order. Before a notebook, each artifact it needs that is not
    ``ready(name)`` and not made by an earlier step is made: by running the notebook that
    trains it, when that notebook comes earlier, or by training it alone (``train NAME``)
    when it can be (the vocoder, which notebook 02 needs and notebook 03 teaches).

    Example
    -------
    >>> [s.name for s in run_order()]
    ['01_audio_features', 'train vocoder', '02_tts_cnn_bilstm', '03_melgan_vocoder', \
'04_vqvae_voice_conversion', '05_emotional_voice_cloning', '06_spoken_command_data']
    >>> [s.name for s in run_order(["04"], ready=lambda name: name == "vocoder")]
    ['train aligner', '04_vqvae_voice_conversion']
    """
    asked = [notebook(n).number for n in (numbers if numbers is not None else [n.number for n in NOTEBOOKS])]
    steps: list[Step] = []
    made: set[str] = set()

    def schedule(number: str, chain: tuple[str, ...]) -> None:
        if Step("notebook", number) in steps:
            return
        if number in chain:
            raise ParameterError(f"notebooks {' -> '.join(chain + (number,))} need each other")
        for name in notebook(number).needs:
            if name in made or ready(name):
                continue
            producer = artifact(name)
            if producer.trainable_alone and (producer.notebook not in asked or producer.notebook > number):
                steps.append(Step("train", name))
            else:
                schedule(producer.notebook, chain + (number,))
            made.add(name)
        steps.append(Step("notebook", number))
        made.update(a.name for a in ARTIFACTS.values() if a.notebook == number)

    for number in sorted(set(asked)):
        schedule(number, ())
    return steps


def markdown_table() -> str:
    """The README's notebook table: number, title and link, what you learn, needs, quick minutes.

    >>> markdown_table().splitlines()[0]
    '| # | notebook | what you learn | needs | `quick` minutes (2 cores) |'
    """
    rows = ["| # | notebook | what you learn | needs | `quick` minutes (2 cores) |", "|---|---|---|---|---|"]
    for n in NOTEBOOKS:
        needs = ", ".join(f"{a} ({artifact(a).notebook})" for a in n.needs) or "-"
        rows.append(f"| {n.number} | [{n.title}](notebooks/{n.filename}) | {n.learns} | {needs} | "
                    f"{n.quick_minutes:g} |")
    return "\n".join(rows)
