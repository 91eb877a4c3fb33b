"""Trend charts as inline SVG (matplotlib, rendered on the server): the brief stays one self-contained page
that prints and mails well. The policy threshold is drawn in."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt

from agents.account_brief.schemas import Trend
from core.i18n import Language

TITLES = {"call_off_rate": ("Abrufquote", "Call-off rate"), "otif": ("Liefertreue (OTIF)", "OTIF"),
          "revenue": ("Umsatz", "Revenue"), "margin": ("Marge", "Margin")}
matplotlib.rcParams["svg.hashsalt"] = "kam"  # the same chart gives the same SVG (stable ids, diffable pages)
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable, printable


def trend_svg(trend: Trend, language: Language, currency: str = "EUR") -> str:
    """One small chart: the monthly values, the threshold as a dashed line; months without data are gaps."""
    scale = 100.0 if trend.unit == "ratio" else 1.0
    months = [p.month[2:] for p in trend.points]
    values = [None if p.value is None else p.value * scale for p in trend.points]
    figure, axis = plt.subplots(figsize=(3.4, 1.7), dpi=100)
    try:
        axis.plot(months, [float("nan") if v is None else v for v in values], marker="o", markersize=2.5,
                  linewidth=1.4, color="#1f4e79")
        if trend.threshold is not None:
            axis.axhline(trend.threshold * scale, color="#c0392b", linestyle="--", linewidth=1)
        title = TITLES[trend.metric][0 if language == "de" else 1]
        unit = "%" if trend.unit == "ratio" else currency
        axis.set_title(f"{title} ({unit})", fontsize=8)
        axis.tick_params(labelsize=6)
        axis.set_xticks(range(0, len(months), 3))
        axis.set_xticklabels(months[::3])
        axis.grid(alpha=0.25, linewidth=0.5)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(figure)
    svg = re.sub(r"^.*?(<svg)", r"\1", buffer.getvalue(), flags=re.S)  # no XML prolog or doctype inline
    return re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)  # RDF metadata: nothing a reader needs
