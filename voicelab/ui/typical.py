"""This run next to a typical one: the figures a notebook just measured beside its results page's.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; every notebook that measures
something ends its evaluation with :func:`against_typical`. The typical figures are
those of a measured ``quick`` run, kept in the notebook's registry entry
(:data:`voicelab.registry.NOTEBOOKS`) with the page that records how they were made, so
the notebook's prose never has to freeze a number that this run may contradict.

Example
-------
>>> table = against_typical("02", "quick", wer_ratio=1.9, show=False)
>>> table.splitlines()[0]
'figure | this run (quick) | typical quick run'
"""

from __future__ import annotations

from voicelab import registry
from voicelab.errors import ParameterError


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def against_typical(number: str | int, profile: str, *, show: bool = True, **figures) -> str | None:
    """A table of ``figures`` (this run's, by name) next to notebook ``number``'s typical ``quick`` figures.

    Every name must be one of the notebook's typical figures (a misspelt name would
    silently compare nothing). In another profile than ``quick`` the table says that the
    typical figures are a ``quick`` run's. It displays the table (and returns nothing,
    so a cell ending with it shows it once); ``show=False`` returns its text instead.
    """
    entry = registry.notebook(number)
    unknown = sorted(set(figures) - set(entry.typical))
    if unknown:
        raise ParameterError(f"notebook {entry.number} has no typical figure {unknown[0]!r}; "
                             f"its figures: {', '.join(entry.typical) or 'none'}")
    rows = [f"figure | this run ({profile}) | typical quick run"]
    for name, value in figures.items():
        typical, what = entry.typical[name]
        rows.append(f"{what} | {_fmt(float(value))} | {_fmt(typical)}")
    note = "" if profile == "quick" else f"(a {profile} run: the typical figures are a quick run's)"
    source = f"typical: {entry.results}" if entry.results else ""
    text = "\n".join(rows + [line for line in (note, source) if line])
    if show:
        import html

        from IPython.display import display

        cells = [[html.escape(c) for c in r.split(" | ")] for r in rows]
        head = "".join(f"<th>{c}</th>" for c in cells[0])
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells[1:])
        foot = "<br>".join(html.escape(line) for line in (note, source) if line)
        display({"text/html": f"<table><tr>{head}</tr>{body}</table><div style='font-size: 85%'>{foot}</div>",
                 "text/plain": text}, raw=True)
        return None
    return text
