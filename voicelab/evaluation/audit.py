"""Audit a dataset's augmentation: drawn as declared, and blind to the labels.

An augmentation that is correlated with a label is a shortcut a recogniser will learn
(all the "weather" clips are the pink-noise ones). :func:`audit` looks for that four
ways, from the manifest's metadata alone (no audio):

1. **Declared vs drawn**: Kolmogorov-Smirnov tests of the drawn SNR and ``rt60``
   against the spec's uniform ranges, and a chi-square test of the noise kinds' and
   room's frequencies against the declared shares.
2. **Association**: bias-corrected Cramér's V (Bergsma 2013) between every augmentation
   parameter (continuous ones in quantile bins, "not applied" a bin of its own) and
   every label; any V above ``bound`` fails.
3. **Predictability**: a random forest given only the augmentation parameters,
   cross-validated, must not predict a label better than always answering its
   majority class (plus ``margin``).
4. **Reuse**: no noise segment (no coloured-noise realisation, no babble mixture) in
   two clips. A single babble talker segment ``(clip, offset)`` shared by two clips is
   counted and shown but does not fail: drawn independently per clip, ``m`` segments
   from a bank of ``S`` samples coincide about ``m**2 / (2 S)`` times by chance (a
   coin flip for a 10,000-clip dataset), and one talker among several is no shortcut.

With a finite sample, sampling noise alone gives a bias-corrected V of about 0.05 and a
classifier a point above the majority class now and then (1,500 independent clips, 45
parameter-label pairs: the largest null V is typically 0.05 to 0.08). So an effect
counts as a failure only when it is also **significant**: chi-square (V) or binomial
(accuracy) p-value below ``alpha`` divided by the number of tests of its kind
(Bonferroni). The KS and share tests use the same corrected level. A real shortcut at
these sizes (V of 0.1 or more) is far beyond both.

Introduced in ``notebooks/06_spoken_commands.ipynb``.

Example
-------
>>> from voicelab.data.augment import AugmentationSpec, sample_augmentation
>>> import numpy as np
>>> spec, rng = AugmentationSpec(), np.random.default_rng(0)
>>> records = []
>>> for i in range(600):
...     labels = {"intent": str(rng.choice(["call", "weather", "set_timer"]))}
...     records.append({**labels, **sample_augmentation(f"c{i}", seed=0, spec=spec)})
>>> report = audit(records, spec, labels=("intent",), bound=0.1)
>>> report.passed
True
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.stats

from voicelab.data.augment import AugmentationSpec
from voicelab.errors import ParameterError

__all__ = ["AUDIT_PARAMS", "LABELS", "AuditReport", "audit", "clip_labels", "cramers_v"]

AUDIT_PARAMS = ("noise", "snr_db", "babble_talkers", "room", "rt60", "room_volume", "gain_db", "band_low",
                "band_high")
"""The augmentation parameters the audit reads (``room_volume`` from ``room_dims``)."""
KS_PARAMS = ("snr_db", "rt60")
NONE = "none"
LABELS = ("intent", "slot_value", "voice", "engine", "emotion")
"""What a clip's augmentation must say nothing about."""


def clip_labels(*, intent: str, slots: Mapping[str, str], voice: str, engine: str, emotion: str) -> dict:
    """A clip's :data:`LABELS`, as the plan knows them before the audio and the manifest after it.

    ``slot_value`` is the clip's first slot value (``"none"`` without slots).

    >>> clip_labels(intent="call", slots={"contact": "anna"}, voice="slt", engine="flite", emotion="neutral")
    {'intent': 'call', 'slot_value': 'anna', 'voice': 'slt', 'engine': 'flite', 'emotion': 'neutral'}
    """
    return {"intent": intent, "slot_value": next(iter(slots.values()), NONE), "voice": voice, "engine": engine,
            "emotion": emotion}


@dataclasses.dataclass
class AuditReport:
    """What :func:`audit` found.

    Attributes
    ----------
    passed : bool
        No failure.
    failures : list of str
        One readable line per failure, e.g. ``"Cramér's V(noise, intent) = 0.81 > 0.05"``.
    ks : dict
        Parameter -> ``{"statistic", "p", "n", "declared"}``: drawn vs declared uniform.
    shares : dict
        ``"noise"``/``"room"`` -> ``{"observed", "expected", "p"}`` (counts by value).
    cramers_v : dict
        Parameter -> label -> bias-corrected Cramér's V.
    v_p : dict
        Parameter -> label -> chi-square p-value of the same table.
    classifier : dict
        Label -> ``{"accuracy", "majority", "p"}``: cross-validated accuracy from the
        augmentation parameters alone, the majority class's share, and the binomial
        p-value of scoring that much by chance.
    reuse : dict
        Noise segment id -> number of clips using it (only those used more than once).
    babble_reuse : dict
        ``"<clip>@<offset>"`` babble talker segment -> number of clips using it (> 1).
    bound, alpha, margin : float
        The thresholds the audit used.
    n_records : int
    """

    passed: bool
    failures: list[str]
    ks: dict[str, dict[str, Any]]
    shares: dict[str, dict[str, Any]]
    cramers_v: dict[str, dict[str, float]]
    v_p: dict[str, dict[str, float]]
    classifier: dict[str, dict[str, float]]
    reuse: dict[str, int]
    babble_reuse: dict[str, int]
    bound: float
    alpha: float
    margin: float
    n_records: int

    def v_matrix(self) -> tuple[np.ndarray, list[str], list[str]]:
        """Cramér's V as ``[params, labels]`` with the row and column names."""
        rows = list(self.cramers_v)
        cols = list(next(iter(self.cramers_v.values()), {}))
        return np.array([[self.cramers_v[r][c] for c in cols] for r in rows]).reshape(len(rows), len(cols)), rows, cols

    def v_failed(self) -> np.ndarray:
        """Boolean ``[params, labels]``: the pairs that failed (above the bound and significant)."""
        v, rows, cols = self.v_matrix()
        p = np.array([[self.v_p[r][c] for c in cols] for r in rows]).reshape(v.shape)
        return (v > self.bound) & (p < self.alpha / max(1, v.size))

    def summary(self) -> str:
        """A few lines for a notebook: verdict, failures, and the largest figures."""
        lines = [f"augmentation audit of {self.n_records} clips: {'PASSED' if self.passed else 'FAILED'}"]
        lines += [f"  FAIL {f}" for f in self.failures]
        for name, ks in self.ks.items():
            lines.append(f"  KS {name}: D = {ks['statistic']:.3f}, p = {ks['p']:.3g} (n = {ks['n']})")
        v, rows, cols = self.v_matrix()
        if v.size:
            i, j = np.unravel_index(int(np.argmax(v)), v.shape)
            lines.append(f"  largest Cramér's V: ({rows[i]}, {cols[j]}) = {v[i, j]:.3f} (bound {self.bound})")
        for label, c in self.classifier.items():
            lines.append(f"  classifier -> {label}: accuracy {c['accuracy']:.3f}, majority {c['majority']:.3f}")
        lines.append(f"  reused noise segments: {len(self.reuse)}; babble talker segments in several clips: "
                     f"{len(self.babble_reuse)} (allowed)")
        return "\n".join(lines)


def _shares_p(observed: np.ndarray, expected: np.ndarray, seed: int, draws: int = 4000) -> float:
    """p-value of drawn counts against declared ones: chi-square where every expected count is 5 or
    more, else a Monte Carlo test of the same statistic over seeded multinomial draws (the chi-square
    approximation fails on small datasets: a smoke run of 30 clips)."""
    if expected.min() >= 5:
        return float(scipy.stats.chisquare(observed, expected)[1])
    statistic = ((observed - expected) ** 2 / expected).sum()
    sims = np.random.default_rng(seed).multinomial(int(observed.sum()), expected / expected.sum(), size=draws)
    return float((1 + (((sims - expected) ** 2 / expected).sum(axis=1) >= statistic - 1e-9).sum()) / (1 + draws))


def cramers_v(x: Sequence, y: Sequence) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two categorical samples, in [0, 1].

    Example
    -------
    >>> a = ["p", "q"] * 200
    >>> round(cramers_v(a, a), 3), cramers_v(a, ["u"] * 400)
    (1.0, 0.0)
    """
    return _association(x, y)[0]


def _association(x: Sequence, y: Sequence) -> tuple[float, float]:
    """Bias-corrected Cramér's V and the chi-square test's p-value."""
    _, xi = np.unique(np.asarray(x, dtype=str), return_inverse=True)
    _, yi = np.unique(np.asarray(y, dtype=str), return_inverse=True)
    table = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(table, (xi, yi), 1)
    n, (r, k) = table.sum(), table.shape
    if r < 2 or k < 2 or n < 2:
        return 0.0, 1.0
    chi2, p = scipy.stats.chi2_contingency(table, correction=False)[:2]
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_c, k_c = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(k_c - 1, r_c - 1)
    return (float(np.sqrt(phi2 / denominator)) if denominator > 0 else 0.0), float(p)


def _columns(records: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The audited parameters present in the records, ``None`` where not applied.

    A clean clip (no augmentation keys at all) counts as ``noise = "none"``, ``room = False``.
    """
    cols = {}
    defaults = {"noise": NONE, "room": False}
    for name in AUDIT_PARAMS:
        if name == "room_volume":
            if any(r.get("room_dims") for r in records):
                cols[name] = [float(np.prod(r["room_dims"])) if r.get("room_dims") else None for r in records]
        elif any(name in r for r in records):
            cols[name] = [r.get(name, defaults.get(name)) for r in records]
    return cols


def _is_numeric(values: list) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)


def _binned(values: list, n_bins: int) -> list[str]:
    """Continuous values -> quantile-bin names; ``None`` -> ``"none"``; few values kept."""
    if not _is_numeric(values) or len({v for v in values if v is not None}) <= n_bins:
        return [NONE if v is None else str(v) for v in values]
    present = np.array([v for v in values if v is not None], dtype=float)
    edges = np.unique(np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return [NONE if v is None else f"q{int(np.searchsorted(edges, v, side='right'))}" for v in values]


def _features(cols: dict[str, list]) -> np.ndarray:
    """Numeric columns as value + "not applied" flag, categorical ones one-hot."""
    blocks = []
    for values in cols.values():
        if _is_numeric(values):
            present = np.array([v is not None for v in values])
            blocks += [np.array([v if v is not None else -1.0 for v in values], dtype=float), present.astype(float)]
        else:
            names = np.asarray([str(v) for v in values])
            blocks += [(names == level).astype(float) for level in np.unique(names)]
    return np.stack(blocks, axis=1) if blocks else np.zeros((0, 0))


def _classify(features: np.ndarray, target: list[str], seed: int) -> dict[str, float]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    names, counts = np.unique(np.asarray(target, dtype=str), return_counts=True)
    majority = float(counts.max() / counts.sum())
    folds = int(min(5, counts.min()))
    if len(names) < 2 or folds < 2:
        return {"accuracy": majority, "majority": majority, "p": 1.0}
    model = RandomForestClassifier(n_estimators=60, min_samples_leaf=3, max_features="sqrt", random_state=seed,
                                   n_jobs=1)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    accuracy = float(np.mean(cross_val_score(model, features, np.asarray(target, dtype=str), cv=cv)))
    n = int(counts.sum())
    p = float(scipy.stats.binomtest(int(round(accuracy * n)), n, majority, alternative="greater").pvalue)
    return {"accuracy": accuracy, "majority": majority, "p": p}


def _declared_shares(spec: AugmentationSpec) -> dict[str, dict[str, float]]:
    noise = {NONE: 1.0 - spec.p_noise} | {k: spec.p_noise * s for k, s in spec.noise_kinds}
    return {"noise": noise, "room": {"True": spec.p_room, "False": 1.0 - spec.p_room}}


def audit(records: Sequence[Mapping[str, Any]], spec: AugmentationSpec, *,
          labels: Sequence[str] = LABELS, bound: float = 0.05,
          seed: int = 0, allow_reuse: bool = False, alpha: float = 0.01, margin: float = 0.01, n_bins: int = 5,
          classify: Sequence[str] | None = None) -> AuditReport:
    """Check that a dataset's augmentation matches ``spec`` and says nothing of its labels.

    Parameters
    ----------
    records : sequence of dict
        One per clip: its labels and its augmentation parameters (the dict
        :func:`voicelab.data.augment.sample_augmentation` returns, merged in; a clean
        clip has ``noise = "none"``, ``room = False``). Use the clips of one spec.
    spec : AugmentationSpec
        What the records were declared to be drawn from.
    labels : sequence of str
        The label fields to test against (each must be in every record).
    bound : float
        Largest allowed bias-corrected Cramér's V.
    seed : int
        Seed of the classifier and its folds.
    allow_reuse : bool
        Do not fail on a noise segment (colour realisation or babble mixture) used by
        several clips.
    alpha : float
        Family-wise significance level of each kind of test (Bonferroni-corrected).
    margin : float
        How far above the majority class the classifier may score.
    n_bins : int
        Quantile bins for continuous parameters.
    classify : sequence of str, optional
        Labels the classifier predicts (default: all of ``labels``).

    Returns
    -------
    AuditReport

    Raises
    ------
    ParameterError
        No records, a label missing from a record, or bad thresholds.
    """
    if not records:
        raise ParameterError("audit needs at least one record, got none")
    if not 0 < bound < 1 or not 0 < alpha < 1 or n_bins < 2:
        raise ParameterError(f"bound={bound}, alpha={alpha} must be in (0, 1) and n_bins={n_bins} >= 2")
    for label in labels:
        missing = [i for i, r in enumerate(records) if label not in r]
        if missing:
            raise ParameterError(f"label {label!r} missing from {len(missing)} records (first: #{missing[0]})")
    failures: list[str] = []
    cols = _columns(records)

    ks, level = {}, alpha / len(KS_PARAMS)
    for name in KS_PARAMS:
        drawn = np.array([v for v in cols.get(name, []) if v is not None], dtype=float)
        low, high = getattr(spec, name)
        if drawn.size >= 20 and high > low:
            stat, p = scipy.stats.kstest(drawn, "uniform", args=(low, high - low))
            ks[name] = {"statistic": float(stat), "p": float(p), "n": int(drawn.size), "declared": (low, high)}
            if p < level:
                failures.append(f"KS {name}: drawn differs from declared uniform{(low, high)} (D = {stat:.3f}, "
                                f"p = {p:.2g} < {level:.2g})")

    shares, declared_shares = {}, _declared_shares(spec)
    level = alpha / len(declared_shares)
    for name, declared in declared_shares.items():
        if name not in cols:
            continue
        counts = collections.Counter(str(v) if v is not None else NONE for v in cols[name])
        values = sorted(set(declared) | set(counts))
        observed = np.array([counts.get(v, 0) for v in values], dtype=float)
        expected = np.array([declared.get(v, 0.0) for v in values]) * observed.sum()
        undeclared = [v for v, o, e in zip(values, observed, expected) if o > 0 and e == 0]
        keep = expected > 0
        p = (_shares_p(observed[keep], expected[keep], seed) if keep.sum() > 1 and not undeclared
             else float("nan") if undeclared else 1.0)
        shares[name] = {"observed": dict(zip(values, observed.tolist())),
                        "expected": dict(zip(values, expected.round(1).tolist())), "p": p}
        if undeclared:
            failures.append(f"{name}: drawn values {undeclared} are not declared by the spec")
        elif p < level:
            failures.append(f"{name}: drawn shares differ from declared (chi-square p = {p:.2g} < {level:.2g})")

    binned = {name: _binned(values, n_bins) for name, values in cols.items()}
    label_values = {label: [NONE if r[label] is None else str(r[label]) for r in records] for label in labels}
    tests = {name: {label: _association(b, label_values[label]) for label in labels} for name, b in binned.items()}
    v_table = {name: {label: vp[0] for label, vp in row.items()} for name, row in tests.items()}
    v_p = {name: {label: vp[1] for label, vp in row.items()} for name, row in tests.items()}
    level = alpha / max(1, len(binned) * len(labels))
    for name, row in tests.items():
        for label, (v, p) in row.items():
            if v > bound and p < level:
                failures.append(f"Cramér's V({name}, {label}) = {v:.2f} > {bound} (chi-square p = {p:.2g})")

    features = _features(cols)
    classifier, targets = {}, list(labels if classify is None else classify)
    for label in targets:
        if label not in label_values:
            raise ParameterError(f"classify label {label!r} is not one of labels={list(labels)}")
        if features.size:
            c = classifier[label] = _classify(features, label_values[label], seed)
            if c["accuracy"] > c["majority"] + margin and c["p"] < alpha / len(targets):
                failures.append(f"augmentation predicts {label}: accuracy {c['accuracy']:.3f} > majority "
                                f"{c['majority']:.3f} + {margin} (binomial p = {c['p']:.2g})")

    uses = collections.Counter(str(r["noise_segment"]) for r in records if r.get("noise_segment"))
    pairs = collections.Counter(f"{clip}@{offset}" for r in records for clip, offset in r.get("babble") or ())
    reuse = {k: n for k, n in sorted(uses.items()) if n > 1}
    if reuse and not allow_reuse:
        first = next(iter(reuse))
        failures.append(f"{len(reuse)} noise segments used by several clips (e.g. {first!r} x{reuse[first]})")

    babble_reuse = {k: n for k, n in sorted(pairs.items()) if n > 1}
    return AuditReport(passed=not failures, failures=failures, ks=ks, shares=shares, cramers_v=v_table, v_p=v_p,
                       classifier=classifier, reuse=reuse, babble_reuse=babble_reuse, bound=bound, alpha=alpha,
                       margin=margin, n_records=len(records))
