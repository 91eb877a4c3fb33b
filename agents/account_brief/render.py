"""The brief as Markdown (CLI, mail) and as one self-contained HTML page with its trend charts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from agents.account_brief import charts, texts
from agents.account_brief.schemas import Brief, Statement

LIGHT = {"breach": "🔴", "warn": "🟡", "ok": "🟢", "not_enough_data": "⚪"}


def _line(s: Statement, language: str) -> str:
    mark = f"*{texts.SECTION[language]['suggestion']}:* " if s.suggestion else ""
    cites = f" [{', '.join(s.cites)}]" if s.cites else ""
    quote = f": „{s.quote}“" if s.quote else ""
    return f"- {mark}{s.text}{quote}{cites}"


def markdown(brief: Brief) -> str:
    t, f, lang = texts.SECTION[brief.language], brief.facts, brief.language
    title = t["handover_title"] if brief.kind == "handover" else t["title"]
    lines = [f"# {title}: {f.name} ({f.account_id})", "",
             f"{texts.day(brief.brief_date, lang)} · {t['owner']}: {f.owner.name}"
             + (f" · {t['partner']}: {f.partner.name}" if f.partner else "") + f" · Segment {f.segment}"]
    if f.next_meeting:
        m = f.next_meeting
        lines.append(f"{t['next_meeting']}: {texts.day(m.date, lang)} – {m.title} ({', '.join(m.attendees)})")
    lines += ["", f"## {t['summary']} ({t[brief.prose_source]})", *[_line(s, lang) for s in brief.summary], "",
              f"## {t['kpis']} ({brief.period})", "", "| | KPI | | |", "|---|---|---:|---:|"]
    for k in brief.facts.kpis:
        lines.append(f"| {LIGHT[k.status]} | {texts.label(k.rule, lang)} | {texts.shown(k, k.value, lang)} | "
                     f"{texts.shown(k, k.threshold, lang)} |")
    for key, items in (("changes", brief.changes), ("risks", brief.risks), ("opportunities", brief.opportunities),
                       ("talking_points", brief.talking_points), ("handover", brief.handover)):
        if items:
            lines += ["", f"## {t[key]}", *[_line(s, lang) for s in items]]
    if f.interactions:
        lines += ["", f"## {t['history']}"]
        lines += [f"- {texts.day(i.date, lang)} {i.type}: {i.note[:200]} [interaction:{i.id}]" for i in f.interactions]
    if brief.clauses:
        lines += ["", f"## {t['clauses']}"]
        lines += [f"- {c.title} {c.clause or ''}: {c.text[:200]} [{c.cite}]" for c in brief.clauses]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def html(brief: Brief) -> str:
    lang = brief.language
    svgs = [charts.trend_svg(trend, lang, brief.facts.currency) for trend in brief.facts.trends]
    return _environment().get_template("brief.html.j2").render(
        b=brief, f=brief.facts, t=texts.SECTION[lang], texts=texts, lang=lang, charts=svgs, light=LIGHT)
