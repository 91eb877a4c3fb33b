"""One sentence against its sources: binding, figures, dates, judgements, trends, content and names."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.claims import words as w
from core.claims.model import Assessment, ClaimContext, SentenceVerdict, Source
from core.claims.sentences import Sentence
from core.claims.support import SUPPORT_THRESHOLD, content_stems, negated_stems, positive_stems, says, support, windows
from core.facts import Fact
from core.i18n import Language
from core.names import FIRST_NAMES
from core.verify import DEFAULT_MASKS, MONTHS, YEAR, NumberToken, find_dates, find_numbers, locate_quote, traces
from core.vocabulary import JUDGED_BY, TARGET, THRESHOLD_OF, Mention, date_kind_mentions, describe, metric_mentions

# metrics that count things: "breach" or "Eskalation" names a count only next to a figure ("3 breaches",
# "zwei offene Eskalationen"); otherwise it is a status ("in breach") or the thing itself
COUNTS = frozenset({"breaches", "warnings", "escalations", "interactions", "invoices", "documents", "orders",
                    "opportunities", "reorders"})
# "no overdue receivables", "keine offenen Eskalationen": a zero of these
ZEROABLE = COUNTS | {"receivables", "open_receivables", "open_order_value", "days_overdue", "dunning_level",
                     "emergency_air_share", "escalations_open_days", "opportunities_identified"}
COUNTED = re.compile(r"(?:\d+|" + "|".join(w.NUMBER_WORDS) + r"|no|none|zero|null|kein\w*|keine|one|only one)\s+"
                     r"(?:(?!(?:im|in|at|bei|mit|of|von|the|der|die|das|dem|den|is|ist|are|sind|a|an|ein|eine|einen|einem|einer)\b)"
                     r"\w+\s+)?$", re.IGNORECASE)
UNIT_KEYS = {"d": "unit:days", "t": "unit:days", "w": "unit:weeks"}
LIMIT_WORD = re.compile(r"^(?:limit|Limit|Grenze\w*)$")
ARTICLE = re.compile(r"^(?:the|a|an|der|die|das|dem|den|des|ein|eine|einen|einem|einer)$", re.IGNORECASE)
# "über", "unter", "over", "above" compare only with something: a target, a figure, a metric, a plan
PREPOSITIONS = re.compile(r"über|unter|unterhalb|oberhalb|over|under|above|below|beneath|hinter|behind|ahead of",
                          re.IGNORECASE)
REFERENCE = re.compile(r"\d|\b(?:plan\w*|forecast|Prognose|Vorjahr\w*|Vormonat\w*|last (?:year|month)|previous|average|"
                       r"Durchschnitt\w*|Schnitt|Soll|Limit\w*|limit\w*|Grenze\w*|corridor|Korridor)\b", re.IGNORECASE)


def _compares(after: str) -> bool:
    return bool(TARGET.search(after) or REFERENCE.search(after) or metric_mentions(after))


UNDER_DOCUMENT = re.compile(r"(?:under|unter)\s+(?:\w+\s+){0,2}(?:contract|agreement|framework|Vertrag|Rahmen\w*|"
                            r"Vereinbarung)", re.IGNORECASE)
# "Auftrag über 429.576,61 €", "an order of €…": an amount's preposition is no comparison
AMOUNT_AFTER = re.compile(r"^\s*(?:[€£$]|EUR|USD|GBP|CHF|US\$)?\s*\d[\d.,]*\s*(?:[€£$]|EUR|USD|GBP|CHF)")
PERSON = re.compile(r"\b(" + "|".join(sorted(FIRST_NAMES, key=len, reverse=True)) + r")\s+([A-ZÄÖÜ][a-zäöüß]+"
                    r"(?:-[A-ZÄÖÜ][a-zäöüß]+)?)\b")
TREND_PATTERNS = (("improved", w.IMPROVED), ("worsened", w.WORSENED), ("fell", w.FALL), ("rose", w.RISE),
                  ("stable", w.STABLE))


@dataclass(frozen=True)
class AtLeast(NumberToken):
    """"eine Eskalation ist offen", "has overdue receivables": the count or amount is at least this."""


@dataclass
class _Clause:
    text: str
    start: int  # offset in the sentence
    accounts: list[str]
    metrics: list[Mention]
    inherited: list[Mention] = field(default_factory=list)  # the metric an elliptic clause keeps ("A-5's is 62 %")
    things: list[str] = field(default_factory=list)  # ids of invoices, orders, escalations, articles it names
    account_at: list[tuple[int, str]] = field(default_factory=list)  # where each account is named


class SentenceCheck:
    def __init__(self, sentence: Sentence, ctx: ClaimContext) -> None:
        self.s = sentence
        self.ctx = ctx
        self.reasons: list[str] = []
        self.by_ref = {src.ref: src for src in ctx.sources}
        self.scope = {s.account_id for s in ctx.sources if s.account_id}
        self.written_figures = False  # a figure only a note or clause states: its words must be supported
        self.dated: list[Source] = []  # the written sources a date of the sentence is the date of
        self.document_figures: list[NumberToken] = []  # figures a contract is said to state
        self.recorded = False  # a date of the sentence is a record's (an order placed, an escalation opened)
        self.kind_dated = False  # … and of the kind the sentence names ("fällig am 18.12.2026" is a due date)
        self.assessed = frozenset(a.metric for s in ctx.sources for a in s.assessments)

    # --- binding ----------------------------------------------------------------------------------------
    def cited(self) -> list[Source]:
        return [self.by_ref[c] for c in self.s.cites if c in self.by_ref]

    def bound(self) -> list[Source]:
        always = [self.by_ref[r] for r in self.ctx.always if r in self.by_ref]
        if self.s.cites:
            cited = self.cited()
            return cited + [a for a in always if a not in cited]
        return always if self.ctx.marked else list(self.ctx.sources)  # unmarked: bound by what it names

    def run(self) -> SentenceVerdict:
        text = self.s.text
        for c in self.s.cites:
            if c not in self.by_ref:
                self.reasons.append(f"cites [{c}], which is not a source of this answer")
        if self.ctx.marked and not self.s.cites and w.COURTESY.match(text.strip()):
            return SentenceVerdict(text, True, (), self.s.cites)
        sources = self.bound()
        self.respectively = bool(re.search(r"\b(?:respectively|jeweils|beziehungsweise|bzw\.)", text, re.I))
        clauses = self.clauses(text)
        states = [self.check_figures(clauses, sources), self.check_dates(clauses, sources),
                  self.check_judgements(clauses, sources)]
        if self.s.cites and not any(states) and len(re.findall(r"[^\W\d_]+", text)) <= 3:
            # "Die Vertrag ist [1]." passed as supported content because its one noun is in the clause
            self.reasons.append("says nothing its source shows: a fragment, not a statement")
        states.append(self.check_content(text, sources, required=bool(self.s.cites) and not any(states)))
        states.append(self.check_names(text, sources))
        if self.ctx.marked and not self.s.cites and (any(states) or not w.REQUEST.match(text)):
            self.reasons.insert(0, "cites no source: cite the source it comes from or leave it out")
        elif not any(states) and not self.reasons and self.ctx.statements_need_support and not w.REQUEST.match(text):
            self.reasons.append("states nothing its sources show (no figure, date, status or supported content)")
        return SentenceVerdict(text, not self.reasons, tuple(dict.fromkeys(self.reasons)), self.s.cites)

    # --- clauses and what they are about ---------------------------------------------------------------------
    def clauses(self, text: str) -> list[_Clause]:
        pieces, last = [], 0
        for match in w.CLAUSE_BREAK.finditer(text):
            pieces.append((last, text[last:match.start()]))
            last = match.end()
        pieces.append((last, text[last:]))
        out: list[_Clause] = []
        previous_accounts: list[str] = []
        previous_metrics: list[Mention] = []
        sentence_accounts = [a for _at, a in self.accounts_named(text)]
        for start, piece in pieces:
            if not piece.strip():
                continue
            named = self.accounts_named(piece)
            accounts = [a for _at, a in named] or previous_accounts
            if self.respectively:
                accounts, named = sentence_accounts, []
            metrics = [Mention(keys, m.start + start, m.end + start) for m in metric_mentions(piece)
                       if (keys := _counted(m, piece))]
            out.append(_Clause(piece, start, accounts, metrics, [] if metrics else previous_metrics,
                               w.THING_ID.findall(piece) + self.titles(piece), named))
            previous_accounts = accounts
            previous_metrics = metrics or previous_metrics
        return out

    def titles(self, text: str) -> list[str]:
        """Quoted titles of records ("die Chance „Coated variant“"): like an id, they name one thing."""
        return [q for m in w.QUOTED.finditer(text) if any((q := m.group(1)) in s.text for s in self.ctx.sources
                                                           if not s.written)]

    def accounts_named(self, text: str) -> list[tuple[int, str]]:
        found = [(m.start(), m.group(0).upper()) for m in w.ACCOUNT_ID.finditer(text)]
        lowered = text.lower()
        for account_id, names in self.ctx.account_names.items():
            for name in names:
                match = re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", lowered)
                if match and account_id not in {a for _at, a in found}:
                    found.append((match.start(), account_id))
        return sorted(found)

    def facts_for(self, sources: list[Source], clause: _Clause, at: int | None = None) -> list[tuple[Source, Fact]]:
        """The facts a clause may state: of the account it is about (at a figure: the account named last before
        it), and of the things it names."""
        wanted = set(clause.accounts) or ({self.ctx.default_account} if self.ctx.default_account else set())
        if at is not None and len(clause.account_at) > 1:
            before = [a for pos, a in clause.account_at if pos < at]
            wanted = {before[-1] if before else clause.account_at[0][1]}
        found = [(s, f) for s in sources for f in s.facts
                 if not wanted or s.account_id is None or s.account_id in wanted]
        things = [t for t in clause.things if any(f.subject == t or t in s.text for s, f in found)
                  and (at is None or clause.text.find(t) < at or _segment(clause.text, at) == _segment(
                      clause.text, clause.text.find(t)))]  # not "352.722,25 €, der Wert des Auftrags A-…"
        if things:  # an invoice's figures, the re-order of article 591.1027-01, the date of its complaint
            found = [(s, f) for s, f in found if f.subject in things or any(t in s.text for t in things)]
        return found

    # --- figures ----------------------------------------------------------------------------------------------
    def check_figures(self, clauses: list[_Clause], sources: list[Source]) -> bool:
        any_figure = False
        quoted = [(m.start(), m.end()) for m in w.QUOTED.finditer(self.s.text)]
        names = [n for s in self.ctx.sources for n in s.names if any(c.isdigit() for c in n)]
        for clause in clauses:
            in_names = [(m.start(), m.end()) for n in names for m in re.finditer(re.escape(n), clause.text)]
            tokens = [t for t in figures(clause.text) if not any(a <= t.start < b for a, b in in_names)]
            compared = self.compare_figures(clause, tokens)  # a name's digits ("Rillenkugellager 6205") are none
            for token in tokens:
                any_figure = True
                if any(a <= clause.start + token.start < b for a, b in quoted):
                    continue  # part of a quote: the quote itself is checked verbatim
                candidates = self.facts_for(sources, clause, token.start)
                if YEAR.match(token.text) and not token.marker and not token.amount:
                    self.check_year(token, candidates)
                    continue
                keys, figure = self.figure_binding(clause, token)
                if isinstance(token, AtLeast):  # the thing that exists is the noun right after it
                    named = metric_mentions(clause.text[token.start + len(token.text):][:40])
                    keys = named[0].keys if named else keys
                self.check_figure(token, keys, figure, clause, tokens, candidates, compared)
        return any_figure

    def check_year(self, token: NumberToken, candidates: list[tuple[Source, Fact]]) -> None:
        years = {self.ctx.as_of.year} | {f.value.year for _s, f in candidates if isinstance(f.value, date)} | {
            int(f.period[:4]) for _s, f in candidates if f.period}
        written = {int(f.value) for s, f in candidates if s.written and isinstance(f.value, (int, float))
                   and float(f.value).is_integer()}
        if int(token.text) in written:
            self.written_figures = True
        elif int(token.text) not in years:
            self.reasons.append(f"names the year {token.text}, which none of its sources is about")

    def figure_binding(self, clause: _Clause, token: NumberToken) -> tuple[frozenset[str] | None, str]:
        """The metric a figure is written for (the name next to it) and whether it is written as a target."""
        text = clause.text
        end = token.start + len(token.text)
        after = text[end:]
        after_unit = w.FIGURE_UNIT.sub("", after, count=1)
        metrics = clause.metrics
        spans = [(m.start - clause.start, m.end - clause.start) for m in metrics]
        targets = [t for t in TARGET.finditer(text) if not any(a <= t.start() < b for a, b in spans)]
        target = next((t for t in targets if t.end() <= token.start and re.fullmatch(
            r"\s*(?:of|von|at|bei|:|\(|≥|≤|>=|<=|=|[<>]|is|ist|liegt bei|lies at|set at|von mindestens|"
            r"of at least|of at most)?\s*(?:the\s+|dem\s+|der\s+)?", text[t.end():token.start], re.I)), None)
        target = target or next((t for t in targets if t.start() >= end and re.fullmatch(
            r"\s*-?\s*(?:%|Prozent|percent|€|EUR|days?|Tage[sn]?|weeks?|Wochen)?\s*-?\s*", text[end:t.start()], re.I)),
            None)
        figure = "threshold" if target else "value"
        if target and LIMIT_WORD.match(target.group(0)) and token.amount:
            return frozenset({"effective_limit"}), "value"  # "Limit 646.000 €" is the credit limit
        unit = w.UNIT_WORDS.match(after)
        if unit and figure == "value":
            following = [m for m in metrics if m.start - clause.start >= end]
            if not (following and following[0].start - clause.start - end <= len(unit.group(0)) + 1):
                return frozenset({UNIT_KEYS[unit.group(1)[0].lower()]}), figure  # "20 days", "14-day limit"
        if figure == "threshold":
            subject = _subject_near(metrics or clause.inherited, clause.start + token.start, text, clause.start)
            return (subject.keys if subject else None), figure
        preceding = [m for m in metrics if m.end - clause.start <= token.start]
        following = [m for m in metrics if m.start - clause.start >= end]
        if following and not w.PREPOSITION.match(after_unit):
            # a name right after the figure: "3 breaches", "62 % call-off rate", "2 offene Eskalationen"
            gap = text[end:following[0].start - clause.start]
            gap_words = w.NUMBER_WORD.sub("", w.FIGURE_UNIT.sub("", gap, count=1)).split()
            if len(gap_words) <= 1 and not any(ARTICLE.match(x) for x in gap_words) and not re.search(r"[,;:(]", gap):
                return following[0].keys, figure
        if preceding:
            between = text[preceding[-1].end - clause.start:token.start]
            if w.THING_ID.search(between):
                return None, figure  # "offene Posten … die Rechnung A-00004-I2026-08 über 221.443,73 €": the thing's
            return preceding[-1].keys, figure
        if following and not re.search(r"[,;:(]", text[end:following[0].start - clause.start]):
            return following[0].keys, figure  # "Mit 62 % liegt die Abrufquote …"
        if clause.inherited:
            return clause.inherited[-1].keys, figure
        return None, figure

    def check_figure(self, token: NumberToken, keys: frozenset[str] | None, figure: str, clause: _Clause,
                     tokens: list[NumberToken], candidates: list[tuple[Source, Fact]], compared: bool) -> None:
        facts = [f for _s, f in candidates]
        written = [f for s, f in candidates if s.written]
        if about_document(self.s.text, self.assessed) and written:
            # "the framework contract sets a penalty of 1 %": a figure the contract is said to state, checked
            # against the clause that supports the sentence (check_content)
            self.document_figures.append(token)
            if not traces(token, written):
                self.reasons.append(f"{token.text!r} is not in the note or clause the sentence says it is from")
            return
        if keys is None:  # no name: it must be some figure of what the sentence rests on
            if traces(token, facts) or traces(token, _differences(candidates)):
                computed = [f for s, f in candidates if not s.written]
                self.written_figures = self.written_figures or (traces(token, written) and not traces(token, computed))
            else:
                self.reasons.append(f"{token.text!r} is none of the figures of its sources")
            return
        named = describe(keys)
        if figure == "threshold":
            pool = [f for f in facts if f.metric in keys and f.figure == "threshold"]
            if not pool:
                self.reasons.append(f"{token.text!r} is written as the target of {named}; no source gives that target")
            elif not traces(token, pool):
                self.reasons.append(f"{token.text!r} is written as the target of {named}, which is "
                                    f"{_shown(pool, self.ctx.language)}")
            return
        if keys == {"revenue"} and token.marker == "percent":
            keys = frozenset({"revenue_growth"})  # "der Umsatz wächst um 7,1 %": revenue in percent is its growth
            named = describe(keys)
        aliases = {THRESHOLD_OF[k] for k in keys if k in THRESHOLD_OF}
        pool = [f for f in facts if ((f.metric in keys or f"unit:{f.unit}" in keys) and f.figure in ("value", "input"))
                or (f.metric in aliases and f.figure == "threshold")]
        monthly = [f for f in pool if f.period]
        if not monthly:  # a month's figure checked against the month's value even where it cites only the rule
            monthly = [f for _s, f in self.facts_for(list(self.ctx.sources), clause, token.start)
                       if f.period and f.metric in keys and f.figure == "value"]
        months = self.figure_months(clause, token, tokens, [f.period for f in monthly])
        if months and monthly:
            in_months = [f for f in monthly if f.period in months]
            if not in_months:
                self.reasons.append(f"{token.text!r} is written for {named} in {', '.join(months)}; no source gives "
                                    "that month's value")
            elif not all(traces(token, [f]) for f in in_months):
                self.reasons.append(f"{token.text!r} is written for {named} in {', '.join(months)}, which is "
                                    f"{_shown(in_months, self.ctx.language)}")
            return
        pool = [f for f in pool if not f.period] or pool
        if isinstance(token, AtLeast):
            if not any(isinstance(f.value, (int, float)) and f.value >= 1 for f in pool) and (pool or keys & COUNTS):
                self.reasons.append(f"says there is {named}; its sources count none")
            return
        if pool and traces(token, pool):
            return
        if token.marker == "points" and traces(token, _differences([(s, f) for s, f in candidates
                                                                       if f.metric in keys])):
            return
        if written and traces(token, written):
            self.written_figures = True  # a note's figure ("asks for a 5 % price reduction"): its words must hold
            return
        if not pool:
            elsewhere = any(f.metric in keys for s in self.ctx.sources for f in s.facts)
            self.reasons.append(f"{token.text!r} is written for {named}; no cited source states {named}"
                                + (" for this account" if elsewhere else ""))
            return
        self.reasons.append(f"{token.text!r} is written for {named}, which is {_shown(pool, self.ctx.language)}")

    def figure_months(self, clause: _Clause, token: NumberToken, tokens: list[NumberToken],
                      periods: list[str]) -> list[str]:
        """The months a figure is written for: a range ("von November 2025 bis September 2026 … 100 %"), the
        months the sentence does not name ("in allen anderen Monaten 100 %"), else those next to it."""
        segment_start, segment_end = _segment_bounds(clause.text, token.start)
        segment = clause.text[segment_start:segment_end]
        for match in w.MONTH_RANGE.finditer(segment):
            if not _months(segment[match.end():token.start - segment_start], self.ctx.as_of):
                first, last = (_months(match.group(g), self.ctx.as_of)[0] for g in (1, 2))
                if first > last and not re.search(r"20\d\d", match.group(1)):
                    first = f"{int(last[:4]) - 1}{first[4:]}"  # "von November bis September 2026"
                return [p for p in dict.fromkeys(periods) if first <= p <= last] or [first, last]
        if w.OTHER_MONTHS.search(segment) and not _months(segment, self.ctx.as_of):
            named = set(_months(self.s.text, self.ctx.as_of))
            return [p for p in dict.fromkeys(periods) if p not in named]
        return _months_of(clause.text, token, tokens, self.ctx.as_of)

    def compare_figures(self, clause: _Clause, tokens: list[NumberToken]) -> bool:
        """"X of 93.0 % is above Y's 62.0 %": a comparison between two written figures holds as written."""
        tokens = [t for t in tokens if not (YEAR.match(t.text) and not t.marker)]
        for name, pattern in (("below", w.BELOW), ("above", w.ABOVE)):
            for match in pattern.finditer(clause.text):
                if _waypoint(clause, match):
                    continue
                left = [t for t in tokens if t.start < match.start()]
                right = [t for t in tokens if t.start >= match.end()]
                if not left and len(right) >= 2 and re.match(r"^\s*(?:mit|with|at)\s", clause.text[match.end():], re.I):
                    left, right = right[:1], right[1:]  # "übersteigt mit 101.483 £ das Limit von 66.000 £"
                if not left or not right or not left[-1].readings or not right[0].readings or \
                        (AMOUNT_AFTER.match(clause.text[match.end():]) and not left):
                    continue
                a, b = left[-1].readings[0][0], right[0].readings[0][0]
                holds = a < b if name == "below" else a > b
                if holds == _negated_at(clause.text, match.start(), match.end()):
                    self.reasons.append(f"says {left[-1].text} is {name} {right[0].text}; it is not")
                return True
        return False

    # --- dates ---------------------------------------------------------------------------------------------
    def check_dates(self, clauses: list[_Clause], sources: list[Source]) -> bool:
        any_date = False
        sentence_kinds = {k for m in date_kind_mentions(self.s.text) for k in m.keys}
        for clause in clauses:
            kinds = {k for m in date_kind_mentions(clause.text) for k in m.keys} or sentence_kinds
            for written, offset, day in _dates(clause.text, self.s.text, self.ctx.as_of):
                any_date = True
                if day is None:
                    self.reasons.append(f"{written!r} is not a date")
                    continue
                if day == self.ctx.as_of:
                    if "as_of" not in kinds:
                        self.reasons.append(f"{written!r} is the as-of date, not the date of anything in the "
                                            "sources (write it only as 'as of' / 'Stand')")
                    continue
                pairs = [(s, f) for s, f in self.facts_for(sources, clause, offset) if isinstance(f.value, date)]
                of_kind = [(s, f) for s, f in pairs if f.metric in kinds] if kinds - {"as_of"} else pairs
                matching = [s for s, f in (of_kind or pairs) if f.value == day]
                if not matching:
                    what = f" for the {'/'.join(sorted(kinds - {'as_of'}))}" if kinds - {"as_of"} else ""
                    self.reasons.append(f"{written!r}: no cited source has this date{what}")
                self.dated += [s for s in matching if s.written or s.names]
                self.recorded = self.recorded or any(not s.written for s in matching)
                self.kind_dated = self.kind_dated or bool(kinds - {"as_of"} and any(
                    not s.written and f.value == day for s, f in of_kind))
        return any_date

    # --- comparisons, status and trends -----------------------------------------------------------------------
    def check_judgements(self, clauses: list[_Clause], sources: list[Source]) -> bool:
        found = False
        previous_trend: tuple[str, str] | None = None
        for clause in clauses:
            judged = _judgements(clause)
            trend = _trend_word(_outside_metrics(clause))
            again = previous_trend and w.AGAIN.search(clause.text) and _months(clause.text, self.ctx.as_of)
            if trend is None and previous_trend and again:
                trend = previous_trend[0]  # "rose in September and again in October"
            if not (judged or trend):
                continue
            keys = [m.keys for m in clause.metrics] or [m.keys for m in clause.inherited][-1:]
            if not keys and w.ALL_RULES.search(clause.text) and judged:
                found = True
                self.check_all_rules(clause, {word: negated for word, negated, _at in judged}, sources)
                continue
            if not keys:
                # "It is below the target [1]": a comparison with a target, no metric named, one rule cited. A
                # vague word ("positive") or a trend ("the line runs stable") names no rule this way.
                judged = [j for j in judged if j[0] in TARGET_WORDS]
                trend = None
                metrics = {a.metric for s in sources for a in s.assessments}
                keys = [frozenset(metrics)] if len(metrics) == 1 and judged else []
            if not keys:
                continue
            found = True
            for subject, group in _by_subject(clause, judged, keys[-1]).items():
                self.check_status(clause, subject, group, sources)
            if trend is not None:
                at = _trend_position(_outside_metrics(clause))
                near = _subject_near(clause.metrics or clause.inherited, clause.start + at, clause.text, clause.start)
                self.check_trend(clause, near.keys if near else keys[-1], trend, sources, previous_trend)
                previous_trend = (trend, clause.text)
        return found

    def assessments(self, keys: frozenset[str], clause: _Clause, sources: list[Source]) -> list[Assessment]:
        keys = keys | {JUDGED_BY[k] for k in keys if k in JUDGED_BY}
        wanted = set(clause.accounts) or ({self.ctx.default_account} if self.ctx.default_account else set())
        found = []
        accounts: list[str | None] = [*sorted(wanted)] or [None]
        for account in accounts:
            match = next((a for s in sources if account is None or not s.account_id or s.account_id == account
                          for a in s.assessments if a.metric in keys), None)
            if match is not None:
                found.append(match)
        return found

    def check_status(self, clause: _Clause, keys: frozenset[str], judged: dict[str, bool],
                     sources: list[Source]) -> None:
        named = describe(keys)
        if set(judged) <= {"below", "above", "comfortably", "better", "worse"} and _figures_around(clause):
            return  # two written figures compared: checked as written (compare_figures)
        found = self.assessments(keys, clause, sources)
        valued = set(judged) & {"below", "above", "better", "worse", "negative", "positive", "comfortably"}
        if not found or any(a.status == "not_enough_data" or (valued and a.value is None) for a in found):
            self.reasons.append(f"judges {named} ({', '.join(sorted(judged))}); no cited source judges it")
            return
        for a in found:
            self.judge(a, named, judged, clause)

    def judge(self, a: Assessment, named: str, judged: dict[str, bool], clause: _Clause) -> None:
        v, t, status = a.value or 0.0, a.threshold if a.value is not None else None, a.status
        compared_to = _compared_figure(clause.text)
        reference = t if compared_to is None else compared_to
        claims: list[tuple[str, str, bool]] = []  # (word, what it says, whether that holds)
        if reference is not None:
            what = "the target" if compared_to is None else "that figure"
            claims += [("below", f"is below {what}", v < reference - 1e-12),
                       ("above", f"is above {what}", v > reference + 1e-12)]
        if t is not None and a.direction:
            better = v > t if a.direction == "higher" else v < t
            claims += [("better", "is better than the target", better),
                       ("worse", "is worse than the target", not better and v != t)]
        claims += [("meets", "meets its target", status in ("ok", "warn")),
                   ("misses", "misses its target (a breach)", status == "breach"),
                   ("breach", "is a breach", status == "breach"), ("warn", "is a warning", status == "warn"),
                   ("ok", "is rated ok", status == "ok"), ("positive_word", "is fine", status == "ok"),
                   ("bad", "is a problem", status in ("breach", "warn")),
                   ("negative", "is negative", v < 0), ("positive", "is positive", v > 0)]
        if "comfortably" in judged and any(x in judged and not judged[x] for x in ("meets", "above", "below")):
            claims.append(("comfortably", "is comfortably inside its target", status == "ok"))
        computed = (f"{named} is {_fmt_value(a.value, a)} against "
                    f"{_fmt_value(t, a) if t is not None else 'no target'} ({status})")
        for word, what, true in claims:
            if word in judged and true == judged[word]:
                said = f"is not true that it {what[3:] if what.startswith('is ') else what}" if judged[word] else what
                self.reasons.append(f"says {named} {said}; {computed}")

    def check_all_rules(self, clause: _Clause, judged: dict[str, bool], sources: list[Source]) -> None:
        """"None of the KPIs is in breach", "alle Kennzahlen im grünen Bereich": about every judged rule."""
        wanted = set(clause.accounts) or ({self.ctx.default_account} if self.ctx.default_account else set())
        statuses = [a.status for s in sources if not wanted or s.account_id in wanted for a in s.assessments]
        if not statuses:
            self.reasons.append("judges the account's KPIs; no cited source judges them")
            return
        none_of = bool(re.search(r"\b(?:none|no|kein\w*|nicht eine?)\b", clause.text, re.I))
        for word, bad_status in (("breach", "breach"), ("misses", "breach"), ("warn", "warn")):
            if word in judged:
                claimed = not (judged[word] or none_of)
                if claimed != (bad_status in statuses):
                    self.reasons.append(f"says {'some' if claimed else 'no'} KPI is a {bad_status}; "
                                        f"{statuses.count(bad_status)} are")
        for word in ("ok", "positive_word", "meets"):
            if word in judged and not judged[word] and re.search(r"\b(?:all|alle\w*|every|jede\w*)\b", clause.text,
                                                                   re.I) and "breach" in statuses:
                self.reasons.append(f"says every KPI is fine; {statuses.count('breach')} are in breach")

    def check_trend(self, clause: _Clause, keys: frozenset[str], trend: str, sources: list[Source],
                    previous: tuple[str, str] | None) -> None:
        wanted = set(clause.accounts) or ({self.ctx.default_account} if self.ctx.default_account else set())
        series = next((se for s in sources if not wanted or not s.account_id or s.account_id in wanted
                       for se in s.series if se.metric in keys), None)
        named = describe(keys)
        if series is None or len(series.points) < 2:
            self.reasons.append(f"says {named} {trend}; no cited source gives its course over time")
            return
        values = dict(series.points)
        order = [k for k, _v in series.points]
        # the months of the trend word's own comma segment ("…jeden Monat bei 100 %, erst im Oktober fiel sie")
        scope = _segment(clause.text, _trend_position(_outside_metrics(clause)))
        if not [m for m in _months(scope, self.ctx.as_of) if m in values]:
            scope = clause.text
        named_months = [m for m in _months(scope, self.ctx.as_of) if m in values]
        if previous and w.AGAIN.search(clause.text):
            named_months = [m for m in _months(previous[1], self.ctx.as_of) if m in values][-1:] + named_months
        if len(named_months) >= 2:
            first, last = named_months[0], named_months[-1]
        elif len(named_months) == 1:
            at = order.index(named_months[0])
            first, last = ((named_months[0], order[-1]) if w.SINCE.search(scope)
                           else (order[max(0, at - 1)], named_months[0]))
        else:
            first, last = order[0], order[-1]
        steps = order[order.index(first):order.index(last) + 1]
        pairs = list(itertools.pairwise(steps)) if w.EVERY_MONTH.search(scope) else [(first, last)]
        negated = _trend_negated(clause.text)
        for a, b in pairs or [(first, last)]:
            ok = _trend_holds(trend, values[a], values[b], series.direction)
            if ok is None:
                return
            if ok == negated:
                self.reasons.append(f"says {named} {'did not ' if negated else ''}{trend} ({a} to {b}); it went "
                                    f"from {_fmt_series(values[a])} to {_fmt_series(values[b])}")
                return

    # --- content a person's text must support --------------------------------------------------------------
    def check_content(self, text: str, sources: list[Source], *, required: bool = False) -> bool:
        """Causes, intentions, events, what a document is said to say, quotes and a note's figures must be
        in a note or clause (a record's own words support an event it records); ``required``: a cited
        sentence that states nothing else must be supported by what it cites."""
        written = [s for s in sources if s.written]
        quotes = [m.group(1) for m in w.QUOTED.finditer(text)]
        for quote in quotes:  # a quote may start a sentence mid-way ("says “we hold …”"): the first letter's case
            if not any(locate_quote(q, s.text) for s in sources for q in (quote, quote[0].swapcase() + quote[1:])):
                self.reasons.append(f"quotes {quote[:60]!r}, which no cited note, mail or clause says verbatim")
        claim = w.QUOTED.sub(" ", text)  # a checked quote says what it says; the rest is the claim
        if w.REQUEST.match(claim):
            return bool(quotes)  # a question or a request asserts no cause, intention or event
        claim, no_data = self.without_no_data(claim, sources)
        framing = content_stems(w.THING_ID.sub(" ", w.ACCOUNT_ID.sub(" ", claim))) - content_stems(
            " ".join(_marker_words(claim)))
        if quotes and len(framing) <= 2:
            return True  # "Die Eskalation A-00005-E1 ist beschrieben als „…“": the quote is what it says
        events = [m.group(0) for m in w.EVENT.finditer(claim) if not ASKED.search(_segment(claim, m.start()))
                  and not (metric_mentions(claim) and (w.RISE.fullmatch(m.group(0)) or w.FALL.fullmatch(m.group(0))))]
        on_document = about_document(claim, self.assessed)
        if on_document and events and all(_provided(claim, e) for e in w.EVENT.finditer(claim)):
            events = []  # "kann mit zwölf Monaten Frist gekündigt werden": a provision, checked against the clause
        stated = ("a cause" if w.CAUSE.search(claim) else "an intention or forecast" if _intends(claim)
                  else "an event" if events else "")
        if not (stated or w.ATTRIBUTION.search(claim) or on_document or self.written_figures or required):
            return bool(quotes) or no_data
        what = stated or "what a document says"
        if stated == "an intention or forecast" and self.kind_dated and not events:
            return True  # "wird am 18.12.2026 fällig": a record's date of that kind, not someone's plan
        if stated == "an event" and (self.recorded or any(not s.written and not says(s.text, events)
                                                          for s in sources)):
            return True  # a record states the event itself ("won" in the opportunity's record) or dates it
        if stated:
            pool = [s for s in sources if s.kind == "note"]
        elif on_document:
            pool = [s for s in written if s.kind == "clause"] or written
        else:
            pool = written or (self.cited() if required else [])
        if not pool:
            self.reasons.append(f"states {what}; only a cited note or mail can support that" if stated else
                                f"states {what}; no cited note, mail or clause says it")
            return True
        dated = [s for s in pool if s in self.dated]
        if self.dated and any(s.written for s in self.dated) and stated:
            if not dated:
                self.reasons.append(f"states {what}; the note of that date does not")
                return True
            pool = dated  # "Am 08.10.2026 forderte …": what the note of that day says
        # a cause's effect is part of what the note must say ("air freight is high because …"); elsewhere a
        # metric's name is the sentence's subject, already checked
        ignore = [*(n for names in self.ctx.account_names.values() for n in names),
                  *(_metric_words(claim) if stated != "a cause" else []), *_date_words(claim), *_marker_words(claim)]
        critical = [*events, *(f"{first} {last}" for first, last in PERSON.findall(claim)),
                    *(m.group(0) for m in w.FREQUENCY.finditer(claim)),
                    *(m.group(0) for m in w.PARTY.finditer(claim) if on_document or w.ATTRIBUTION.search(claim))]
        best, source = self.best_support(claim, pool, ignore, critical)
        if best < SUPPORT_THRESHOLD:
            self.reasons.append(f"states {what} that no cited note, mail or clause supports ({best:.0%} of its "
                                "words)")
            return True
        for token in self.document_figures:
            if not traces(token, list(source.facts)):
                self.reasons.append(f"{token.text!r} is not what the clause says")
        missing = self.missing(claim, source, critical, ignore)
        if missing:
            self.reasons.append(f"its source does not say {', '.join(repr(x) for x in missing)}")
        if stated == "a cause" and (effect := self.unsupported_effect(claim, source)):
            self.reasons.append(f"gives a cause for {effect!r}; its source does not say it was the cause of that")
        for word, opposite in _opposites(claim, source.text):
            self.reasons.append(f"says {word!r}; its source says {opposite!r}")
        claim_negated, claim_positive = negated_stems(claim), positive_stems(claim)
        source_negated, source_positive = negated_stems(source.text), positive_stems(source.text)
        if claim_negated & (source_negated | source_positive) and not claim_negated & source_negated:
            self.reasons.append("says not what the source says (or the other way round)")
        elif claim_positive & source_negated - source_positive:
            self.reasons.append("states what the source says did not happen or is not so")
        _best, window = support(claim, source.text, ignore=ignore)
        if events and not w.TOPIC.search(claim) and _only_as_topic(source.text, events):
            self.reasons.append("states as done what the source only lists as a topic")
        if w.CONDITION.search(claim) and not w.CONDITION.search(source.text):
            self.reasons.append("states a condition the source does not set")
        if _intends(claim) and w.HEDGE.search(window) and not w.HEDGE.search(claim):
            self.reasons.append("says for certain what the source only calls possible")
        elif _intends(claim) and not (_intends(window) or w.HEDGE.search(window) or w.PLANNED.search(window)):
            self.reasons.append("states an intention or forecast; the source states none")
        if events and not (_intends(claim) or w.PLANNED.search(claim)) and any(
                _plans(piece, events) and not _past(piece) for piece in _pieces(source.text)
                if not says(piece, events)):
            self.reasons.append("states as done what the source only plans or promises")
        return True

    def without_no_data(self, claim: str, sources: list[Source]) -> tuple[str, bool]:
        """"kein NPS-Wert, weil zu wenig Daten vorliegen": a rule's status, checked here against its assessment
        and taken out of the claim (it is no cause a note must give)."""
        match = w.NO_DATA.search(claim)
        if match is None:
            return claim, False
        keys = frozenset(k for m in metric_mentions(claim) for k in m.keys)
        found = [a for s in sources for a in s.assessments if a.metric in keys | {JUDGED_BY.get(k, k) for k in keys}]
        if not found:
            self.reasons.append("says there is not enough data; no cited source judges that")
        elif any(a.status != "not_enough_data" for a in found):
            self.reasons.append(f"says there is not enough data for {describe(keys)}; it is rated "
                                f"{', '.join(sorted({a.status for a in found}))}")
        start, end = _segment_bounds(claim, match.start())
        cause = w.CAUSE.search(claim[start:end])
        return claim[:start + (cause.start() if cause else 0)] + claim[end:], True

    def unsupported_effect(self, claim: str, source: Source) -> str:
        """A cause's effect must be what the source gives the cause for: the metric it names (by name or
        by its words) must be in the source ("revenue fell because …" needs a note about revenue)."""
        cause = w.CAUSE.search(claim)
        if cause is None:
            return ""
        if cause.start() > 0:
            effect = claim[:cause.start()]
        else:  # "Wegen X ist Y", "Because X, Y"
            comma = re.search(r",\s", claim[cause.end():])
            effect = claim[cause.end() + comma.end():] if comma else ""
        named = metric_mentions(effect)
        known = {k for m in metric_mentions(source.text) for k in m.keys}
        for mention in named:
            word = effect[mention.start:mention.end]
            if not mention.keys & known and says(source.text, [word]):
                return word
        return ""

    def months_missing(self, claim: str, source: Source) -> list[str]:
        """The months the claim names that the source neither says nor is dated in."""
        dated = {f"{f.value.year}-{f.value.month:02d}" for f in source.facts if isinstance(f.value, date)}
        text_months = {m for _s, _e, m in _month_spans(source.text, self.ctx.as_of)} | {
            f"{d.year}-{d.month:02d}" for _t, _o, d in find_dates(source.text) if d}
        return [m for _s, _e, m in _month_spans(claim, self.ctx.as_of) if m not in dated | text_months
                and not says(source.text, [m])]

    def missing(self, claim: str, source: Source, critical: list[str], ignore: list[str]) -> list[str]:
        """What the claim must find in its source that it does not: the event's verb, the people, the months.
        A verb counts where the source says what its part of the claim says ("asks for 5 %" is no "committed
        5 %" because a later sentence says "promised to check")."""
        parts = _parts(claim)
        denied = negated_stems(claim)
        out = []
        for word in critical:
            part = next((p for p in parts if word in p), claim)
            near = [win for win in windows(source.text, whole=False)
                    if support(part, win, ignore=ignore)[0] >= SUPPORT_THRESHOLD]
            if content_stems(word) <= denied:  # "nothing was committed": checked against the source's negations
                near = []
            if says(" ".join(near) or source.text, [word]):
                out.append(word)
        return out + self.months_missing(claim, source)

    def best_support(self, claim: str, pool: list[Source], ignore: list[str], critical: list[str]
                     ) -> tuple[float, Source]:
        """The source that supports the claim best, and how well: each clause of the claim in its best window
        (a sentence may take two facts from one note); among sources that support it, the one that also has
        its verb, people and month (two notes may say the same in different months)."""
        parts = _parts(claim)
        scored = []
        for source in pool:
            score = min(support(part, source.text, ignore=ignore)[0] for part in parts)
            complete = score >= SUPPORT_THRESHOLD and not self.missing(claim, source, critical, ignore)
            scored.append((complete, score, source))
        complete, score, source = max(scored, key=lambda x: (x[0], x[1]))
        return score, source

    # --- names of accounts, people, companies and things ------------------------------------------------
    def check_names(self, text: str, sources: list[Source]) -> bool:
        found = False
        everything = " ".join([*(s.text for s in self.ctx.sources), *(n for s in self.ctx.sources for n in s.names)])
        in_sources = everything.lower()
        cited = " ".join([*(s.text for s in self.cited()), *(n for s in self.cited() for n in s.names)]).lower()
        own = {n for names in self.ctx.account_names.values() for n in names}
        for account_id in {a.upper() for a in w.ACCOUNT_ID.findall(text)}:
            found = True
            if account_id not in self.scope:
                self.reasons.append(f"names {account_id}, which none of the sources is about")
        for thing in w.THING_ID.findall(text):
            found = True
            where = cited if self.s.cites else in_sources
            if thing.lower() not in where and not any(thing in (f.subject, f.value) for s in sources for f in s.facts):
                which = "the cited sources do not mention" if self.s.cites else "no source mentions"
                self.reasons.append(f"names {thing}, which {which}")
        lowered = text.lower()
        people = {f"{first} {last}" for first, last in PERSON.findall(text)}
        for known in self.ctx.known:
            if known.name in own or not _names(known.name, lowered):
                continue
            found = True
            people.discard(known.name)
            if known.account_id not in self.scope and known.name.lower() not in in_sources:
                self.reasons.append(f"names {known.name}, who or which none of the sources is about")
            elif " " in known.name and known.account_id in self.scope | {None}:
                self.check_person(known.name, text, cited)
        for person in people:
            found = True
            if person.lower() not in in_sources:
                self.reasons.append(f"names {person}, whom no source names")
            else:
                self.check_person(person, text, cited)
        for match in w.HONORIFIC.finditer(text):
            found = True
            if match.group(1).lower() not in in_sources:
                self.reasons.append(f"names {match.group(0)}, whom no source names")
        for match in w.LEGAL_FORM.finditer(text):
            found = True
            name = match.group(1).strip()
            if name.lower() not in in_sources and not any(n.lower() in match.group(0).lower() or name.lower() in
                                                            n.lower() for n in own):
                self.reasons.append(f"names {match.group(0)}, which no source names")
        return found

    def check_person(self, person: str, text: str, cited: str) -> None:
        """A person named in a cited sentence is in what it cites; one named with a dated note or meeting is
        in that note; one named with a role has that role in a source."""
        name = person.lower()
        if self.s.cites and name not in cited:
            self.reasons.append(f"names {person}, whom the cited sources do not name")
        elif self.dated and not any(name in s.text.lower() or person in s.names for s in self.dated):
            self.reasons.append(f"names {person}; the note or meeting of that date does not")
        roles = [role for role in w.ROLE_PATTERNS if _has_role(person, role, text, reach=60, within_sentence=True)]
        if roles and not any(_has_role(person, role, s.text) for role in roles for s in self.ctx.sources):
            self.reasons.append(f"gives {person} a role no source gives them")


# --- helpers ------------------------------------------------------------------------------------------------
# a request to do something ("please confirm", "bitte bestätigen Sie") reports no event
ASKED = re.compile(r"\b(?:please|kindly|bitte|could you|can you|would you|können sie|könnten sie|würden sie)\b", re.I)


MODAL = re.compile(r"\b(?:kann|können|darf|dürfen|muss|müssen|may|can|must|shall|is entitled to|are entitled to|"
                   r"berechtigt)\b", re.IGNORECASE)


def _provided(claim: str, event: re.Match[str]) -> bool:
    """Is the event word what a contract allows or requires ("kann … gekündigt werden", "may be terminated"),
    not something that happened?"""
    before = " ".join(claim[:event.start()].split()[-8:])
    after = claim[event.end():event.end() + 20]
    return bool(MODAL.search(before) or re.match(r"^\s*(?:zu )?werden\b", after) or
                re.search(r"\b(?:to be|be)\s*$", before, re.I))


def _only_as_topic(source: str, events: list[str]) -> bool:
    """Does the source name the event only in a list of topics ("Topics: …, switch to returnable packaging")?"""
    topic = w.TOPIC.search(source)
    if topic is None:
        return False
    end = re.search(r"[.;]\s", source[topic.end():])
    listed = source[topic.start():topic.end() + (end.start() if end else len(source))]
    rest = source.replace(listed, " ")
    return not says(listed, events) and bool(says(rest, events))


def _plans(piece: str, events: list[str]) -> bool:
    """Does the piece plan or promise something, other than by the event's own word ("announces a tender" is
    the announcement itself)?"""
    return any(all(says(m.group(0), [event]) for event in events) for m in w.PLANNED.finditer(piece))


def _parts(claim: str) -> list[str]:
    """The clauses of a claim that say something of their own."""
    return [p for p in w.CLAUSE_BREAK.split(claim) if p and len(content_stems(p)) >= 2] or [claim]


def _pieces(text: str) -> list[str]:
    """A text's sentences and comma segments: where a plan or promise stands beside the verb it is about."""
    return [p for p in re.split(r"[.;,!?]\s+", text) if p.strip()]


def _segment(text: str, at: int) -> str:
    """The comma, colon or semicolon segment of ``text`` around position ``at``."""
    start, end = _segment_bounds(text, at)
    return text[start:end]


def _segment_bounds(text: str, at: int) -> tuple[int, int]:
    """Where the segment around ``at`` starts and ends; a decimal comma ("378.099,10") ends none."""
    start = max((m.end() for m in re.finditer(r"[,;:](?=\s)", text[:at])), default=0)
    end = min((at + m.start() for m in re.finditer(r"[,;:](?=\s)", text[at:])), default=len(text))
    return start, end


def about_document(sentence: str, assessed: frozenset[str] = frozenset()) -> bool:
    """Is the sentence about what a contract or agreement provides (its figures are the document's), not about
    a rule that code judges ("the contract requires OTIF of 98 %" is checked against the KPI)?"""
    return bool(w.DOCUMENT.search(sentence) and (w.PROVISION.search(sentence) or w.ATTRIBUTION.search(sentence))
                and not any(m.keys & assessed for m in metric_mentions(sentence)))


NEGATING_PREFIX = re.compile(r"^(?:un|in|non-?|nicht-?)(\w{5,})$", re.IGNORECASE)


def _opposites(claim: str, source: str) -> list[tuple[str, str]]:
    """Words the claim says with a negating prefix whose plain form the source says ("instabil" against "running
    stable", "unreliable" against "reliable")."""
    have = content_stems(source)
    out = []
    for word in dict.fromkeys(re.findall(r"[\wäöüÄÖÜß-]+", claim)):
        match = NEGATING_PREFIX.match(word)
        if match and not says(source, [word]) and content_stems(match.group(1)) & have:
            out.append((word, match.group(1)))
    return out


def _has_role(person: str, role: str, text: str, *, reach: int = 40, within_sentence: bool = False) -> bool:
    """Is the role named next to the person ("Stefan Schneider (purchasing)", "KAM Thomas Schneider")? In a
    claim the role must stand in the person's own sentence part ("Review with Emma Clark. Topics: forecast
    quality" gives her no role)."""
    pattern = w.ROLE_PATTERNS[role]
    for match in re.finditer(re.escape(person), text, re.IGNORECASE):
        before, after = text[max(0, match.start() - reach):match.start()], text[match.end():match.end() + reach]
        if within_sentence:
            before, after = re.split(r"[.;:]\s", before)[-1], re.split(r"[.;:]\s", after)[0]
        if pattern.search(before + " " + after):
            return True
    return False


PARTICIPLE = re.compile(r"^(?:\w*ge\w+(?:t|en)|\w+iert)$", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(?:ich|wir|I|we|I'd|we'd|I'll|we'll|uns|unsere\w*|our|us)\b", re.IGNORECASE)


def _intends(text: str) -> bool:
    """An intention or forecast about someone else: German "wird" with a participle is the present passive
    ("wird ausgewiesen"), and the writer's own offer ("möchte ich …", "we would like to …") is no claim."""
    for match in w.INTENT.finditer(text):
        if match.group(0).lower() in ("wird", "werden"):
            rest = re.split(r"[.;,](?:\s|$)", text[match.end():])[0].split()
            previous = text[:match.start()].split()[-1:]
            if any(PARTICIPLE.match(x) for x in rest[-1:] + previous):
                continue
        near = " ".join(text[:match.start()].split()[-3:]) + " " + " ".join(text[match.end():].split()[:1])
        if FIRST_PERSON.search(near):
            continue
        return True
    return False


def _past(text: str) -> bool:
    """The text reports something done (a past tense or a perfect)."""
    return bool(re.search(r"\b(?:was|were|has been|have been|did|had|wurde\w*|hat\s+\w+\s+ge\w+t|ist\s+\w*ge\w+en)\b",
                          text, re.I))


def _counted(mention: Mention, text: str) -> frozenset[str]:
    """The mention's metrics, without the counts when no figure stands before the name, or when "no" stands
    before a status in the singular ("kein Verstoß", "no OTIF breach" say a status; "no breaches" counts)."""
    before = COUNTED.search(text[max(0, mention.start - 30):mention.start])
    status = before and _status_noun(text[mention.start:mention.end]) and before.group(0).split()[0].lower() in \
        w.ZERO_WORDS and not re.search(r"einzig|single", before.group(0), re.I)  # "keine einzige Warnung" counts
    if mention.keys & COUNTS and (not before or status) and not \
            re.match(r"^\s*[:=]?\s*\d", text[mention.end:]):
        return mention.keys - COUNTS
    return mention.keys


STATUS_NOUN = re.compile(r"(?:breach|violation|verstoß|regelverstoß|warning|warnung)", re.IGNORECASE)


def _status_noun(word: str) -> bool:
    """A breach or warning in the singular: after "no" a status ("kein Verstoß"), not a count."""
    return bool(STATUS_NOUN.fullmatch(word.strip().split()[-1])) if word.strip() else False


def _names(name: str, lowered_text: str) -> bool:
    return bool(re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", lowered_text))


def _metric_words(text: str) -> list[str]:
    return [text[m.start:m.end] for m in metric_mentions(text)]


def _date_words(text: str) -> list[str]:
    return [written for written, _o, _d in find_dates(text)]


def _marker_words(text: str) -> list[str]:
    """Connectives that mark a cause, an intention or what a document provides: no content of their own."""
    return [m.group(0) for p in (w.CAUSE, w.INTENT, w.ATTRIBUTION, w.PROVISION) for m in p.finditer(text)]


def _without(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(" ", text)


# the judgement words that compare with a target: they need a rule even where the sentence names none
TARGET_WORDS = frozenset({"below", "above", "meets", "misses", "breach", "warn", "ok", "better", "worse"})
JUDGEMENTS = (("below", w.BELOW), ("above", w.ABOVE), ("meets", w.MEETS), ("misses", w.MISSES),
              ("breach", w.BREACH), ("warn", w.WARN), ("ok", w.STATUS_OK), ("positive_word", w.POSITIVE),
              ("bad", w.BAD), ("comfortably", w.COMFORTABLY), ("better", w.BETTER), ("worse", w.WORSE),
              ("negative", w.NEGATIVE), ("positive", w.POSITIVE_SIGN))


def _waypoint(clause: _Clause, match: re.Match[str]) -> bool:
    """"stieg von 375 € über 378 € auf 405 €": "über" between figures of a course is a way point."""
    before, after = clause.text[:match.start()], clause.text[match.end():]
    course = _trend_word(_outside_metrics(clause)) or (re.search(r"\b(?:from|von)\b", before, re.I) and
                                                       re.search(r"\b(?:to|auf|bis)\b", after, re.I))
    return bool(PREPOSITIONS.fullmatch(match.group(0)) and course and figures(before) and figures(after))


def _negated_at(text: str, start: int, end: int) -> bool:
    """Is the word at text[start:end] negated: a negation among the four words before it ("is not below",
    "kein Verstoß") or right after it ("erreicht nicht"), or a German clause ending in "nicht" ("erreicht das
    Ziel nicht")?"""
    before = " ".join(_without(w.NOT_ONLY, text[max(0, start - 60):start]).split()[-4:])
    after = text[end:]
    return bool(w.NEGATION.search(before) or re.match(r"^\W*(?:nicht|not)\b", after, re.I)
                or re.match(r"^[^.;:]{0,40}?\b(?:nicht|nie)\W*$", after, re.I))


def _judgements(clause: _Clause) -> list[tuple[str, bool, int]]:
    """The judgements a clause makes: (word, negated, where); a count's noun ("3 breaches") and an amount's
    preposition ("Auftrag über 429.576,61 €") are none."""
    counted = [(m.start - clause.start, m.end - clause.start) for m in clause.metrics if m.keys & COUNTS]
    counted += [(m.start(), m.end()) for m in w.PERIOD.finditer(clause.text)]  # "over the last 12 months"
    found: list[tuple[str, bool, int]] = []
    for name, pattern in JUDGEMENTS:
        for match in pattern.finditer(clause.text):
            if any(a <= match.start() < b for a, b in counted):
                continue
            if name == "below" and UNDER_DOCUMENT.match(clause.text[match.start():]):
                continue  # "under our framework contract": governed by, no comparison
            if PREPOSITIONS.fullmatch(match.group(0)) and not _compares(clause.text[match.end():match.end() + 50]):
                continue  # "über die neue Verpackung": a topic, no comparison
            if _waypoint(clause, match):
                continue
            if name in ("above", "below") and AMOUNT_AFTER.match(clause.text[match.end():]) and not \
                    figures(clause.text[:match.start()]):
                continue
            found.append((name, _negated_at(clause.text, match.start(), match.end()), match.start()))
    names = {n for n, _neg, _at in found}
    if names <= {"comfortably"}:
        return []
    if "meets" in names and "misses" in names:
        found = [f for f in found if f[0] != "meets"]  # "nicht erreicht" reads as both
    return found


def _by_subject(clause: _Clause, judged: list[tuple[str, bool, int]], fallback: frozenset[str]
                ) -> dict[frozenset[str], dict[str, bool]]:
    """Each judgement word with the metric it is about: in its comma segment, the last named before it, else
    the first after it ("verfehlt aber mit 0 erkannten Chancen das Ziel"), else the clause's."""
    out: dict[frozenset[str], dict[str, bool]] = {}
    metrics = clause.metrics or clause.inherited
    for word, negated, at in judged:
        found = _subject_near(metrics, clause.start + at, clause.text, clause.start)
        out.setdefault(found.keys if found else fallback, {})[word] = negated
    return out


def _subject_near(metrics: Sequence[Mention], at: int, text: str = "", offset: int = 0) -> Mention | None:
    non_counts = [m for m in metrics if not m.keys <= COUNTS] or list(metrics)
    if text:  # the comma segment of the word first
        cut = [offset + m.end() for m in re.finditer(r",\s", text)]
        start = max([c for c in cut if c <= at], default=offset)
        stop = min([c for c in cut if c > at], default=offset + len(text))
        segment = [m for m in non_counts if start <= m.start < stop]
        before = [m for m in segment if m.start < at]
        if before or segment:
            return before[-1] if before else segment[0]
    before = [m for m in non_counts if m.start < at]
    return before[-1] if before else (non_counts[0] if non_counts else None)


def _outside_metrics(clause: _Clause) -> str:
    """The clause without its metric names and comparison phrases ("falls short of" is no fall, "wächst beim
    Umsatz" names a metric), where trend words are looked for."""
    text = clause.text
    spans = [(m.start - clause.start, m.end - clause.start) for m in clause.metrics]
    spans += [(m.start(), m.end()) for p in (w.BELOW, w.ABOVE) for m in p.finditer(text)]
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def _trend_negated(text: str) -> bool:
    for pattern in (w.FALL, w.RISE, w.STABLE):
        if (match := pattern.search(text)) is not None:
            return _negated_at(text, match.start(), match.end())
    return False


def _trend_position(text: str) -> int:
    return min((m.start() for _n, p in TREND_PATTERNS for m in p.finditer(text)), default=0)


def _trend_word(text: str) -> str | None:
    return next((name for name, pattern in TREND_PATTERNS if pattern.search(text)), None)


def _trend_holds(trend: str, start: float, end: float, direction: str | None) -> bool | None:
    """Does the course from ``start`` to ``end`` match the word? None: it cannot be judged ("improved" without
    a direction)."""
    delta = end - start
    scale = max(abs(start), abs(end), 1e-9)
    if trend == "stable":
        return abs(delta) <= 0.005 * scale + 1e-9  # "stable" allows what a reader rounds away
    if abs(delta) <= 1e-9 * scale:
        return False  # no change at all: it neither rose nor fell
    if trend in ("improved", "worsened"):
        if direction is None:
            return None
        good = (delta > 0) == (direction == "higher")
        return good if trend == "improved" else not good
    return (delta > 0) == (trend == "rose")


def _figures_around(clause: _Clause) -> bool:
    """Two written figures on both sides of a comparison ("93 % is above 62 %", "übersteigt mit 101.483 £ das
    Limit von 66.000 £"), neither of them a target."""
    tokens = figures(clause.text)
    plain = _outside_metrics(clause)  # "effective limit" is a metric, not the target word "limit"
    for pattern in (w.BELOW, w.ABOVE, w.BETTER, w.WORSE):
        for match in pattern.finditer(clause.text):
            right = [t for t in tokens if t.start >= match.end()]
            german = len(right) >= 2 and re.match(r"^\s*(?:mit|with|at)\s", clause.text[match.end():], re.I)
            if ((any(t.start < match.start() for t in tokens) and right) or german) and \
                    not TARGET.search(plain[match.end():match.end() + 30]):
                return True
    return False


def _compared_figure(text: str) -> float | None:
    """The figure a comparison is made with when it is not the target: "below 80 %" (a fraction)."""
    match = re.search(r"(?:below|under|above|over|unter|über|than|als)\s+(?:the\s+|dem\s+|den\s+)?"
                      r"(\d+(?:[.,]\d+)?)\s?%", text, re.I)
    if match is None or TARGET.search(text[match.end():match.end() + 20]):
        return None
    return float(match.group(1).replace(",", ".")) / 100


def figures(text: str) -> list[NumberToken]:
    """Every figure of a clause: written with digits (not a date, an id, a month or a period), a number word,
    or a "no"/"keine" before a count or an amount ("keine offenen Eskalationen" is 0)."""
    masked = w.PERIOD.sub(lambda m: " " * len(m.group(0)), _mask_months(w.DAY_MONTH.sub(_blank, text)))
    tokens = find_numbers(masked, masks=(*DEFAULT_MASKS, w.YEAR_MONTH))
    for match in w.NUMBER_WORD.finditer(masked):
        word = match.group(1).lower()
        if word in w.ZERO_WORDS:
            rest = text[match.end():match.end() + 40]
            named = metric_mentions(rest)
            gap = len(rest[:named[0].start].split()) if named else 0
            none_of = word == "none" and re.match(r"^\s+of\b", rest)  # "none of its receivables are overdue"
            if not named or gap > (5 if none_of else 1) or not (named[0].keys & ZEROABLE) or \
                    _status_noun(rest[named[0].start:named[0].end]):
                continue  # "no breach" is a status; "keine offenen Eskalationen" is a count
            value = 0.0
        else:
            value = float(w.NUMBER_WORDS[word])
        tokens.append(NumberToken(match.group(0), match.start(), "", ((value, 0),), amount=False))
    for match in w.ONE.finditer(text):
        tokens.append(NumberToken(match.group(1), match.start(), "", ((1.0, 0),), amount=False))
    taken = {t.start for t in tokens}
    for match in w.EXISTS.finditer(text):
        if match.start() in taken:
            continue
        if w.NEGATION.search(" ".join(text[:match.start()].split()[-2:])):  # "weder eine offene Eskalation …"
            tokens.append(NumberToken(match.group(0).strip(), match.start(), "", ((0.0, 0),), amount=False))
        else:
            tokens.append(AtLeast(match.group(0).strip(), match.start(), "", ((1.0, 0),), amount=False))
    return sorted(tokens, key=lambda t: t.start)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def _dates(text: str, sentence: str, as_of: date) -> list[tuple[str, int, date | None]]:
    """Every date of the text: written in full, or a day and month whose year is that of the sentence's next
    full date ("14 Oct, 26 Oct and 20 Nov 2026"), else the one nearest the as-of date ("am 30. November")."""
    found = find_dates(text)
    full = find_dates(sentence)
    for match in w.DAY_MONTH.finditer(text):
        month, day = MONTHS[match.group(2).lower()], int(match.group(1))
        at = sentence.find(text) + match.start()
        following = [d for _t, o, d in full if d and o > at]
        years = [following[0].year - (month > following[0].month)] if following else \
            [as_of.year - 1, as_of.year, as_of.year + 1]
        try:  # without a full date after it: the year that puts the day nearest the as-of date
            day_of = min((date(y, month, day) for y in years), key=lambda d: abs((d - as_of).days))
        except ValueError:
            found.append((match.group(0), match.start(), None))
        else:
            found.append((match.group(0), match.start(), day_of))
    return sorted(found, key=lambda item: item[1])


def _mask_months(text: str) -> str:
    """"Oktober 2026" names a month, not a figure 2026 (a full date "26 Nov 2026" stays for the date check)."""
    def mask(m: re.Match[str]) -> str:
        full_date = re.search(r"\d\.?\s*$", text[:m.start()])
        return " " * len(m.group(0)) if m.group(2) and not full_date else m.group(0)
    return w.MONTH_NAME.sub(mask, text)


def _month_spans(text: str, as_of: date) -> list[tuple[int, int, str]]:
    """(start, end, YYYY-MM) of every month the text names ("Oktober 2026", "in August", "2026-10"), the latest
    such month on or before the as-of date when no year is written; a day's month ("4 Nov 2026") is a date."""
    found = [(m.start(), m.end(), f"{m.group(1)}-{m.group(2)}") for m in w.YEAR_MONTH.finditer(text)]
    last = as_of.replace(day=1) - timedelta(days=1)
    found += [(m.start(), m.end(), f"{last.year}-{last.month:02d}") for m in w.LAST_MONTH.finditer(text)]
    for match in w.MONTH_NAME.finditer(text):
        word = match.group(1)
        day_before = re.search(r"\d\.?\s*$", text[:match.start()])  # "4 Nov 2026", "30. November"
        day_after = not match.group(2) and re.match(r"^\s*\d{1,2}\b", text[match.end():])  # "November 28, 2026"
        if day_before or day_after:
            continue
        if word.lower() in w.AMBIGUOUS_MONTHS and not match.group(2) and not word[0].isupper():
            continue
        if word.lower() == "may" and not match.group(2):
            continue
        number = MONTHS[word.lower()]
        year = int(match.group(2)) if match.group(2) else (as_of.year if number < as_of.month else as_of.year - 1)
        found.append((match.start(), match.end(), f"{year}-{number:02d}"))
    return sorted(found)


def _months(text: str, as_of: date) -> list[str]:
    return [m for _s, _e, m in _month_spans(text, as_of)]


def _months_of(text: str, token: NumberToken, tokens: list[NumberToken], as_of: date) -> list[str]:
    """The months a figure is written for: as many figures as months pair up in order ("von September auf
    Oktober von 81.086 £ auf 89.235 £"); else the month group right after it ("80 % in August and September"),
    else right before it ("im Juni 20,1 %", "Oktober 2026 auf 81.482 €"), else the clause's only month."""
    spans = _month_spans(text, as_of)
    if not spans:
        return []
    counted = [t for t in tokens if not (YEAR.match(t.text) and not t.marker)]
    if len(counted) == len(spans) > 1 and token in counted:
        return [spans[counted.index(token)][2]]
    end = token.start + len(token.text)
    after = [s for s in spans if s[0] >= end]
    if after and re.fullmatch(r"\s*(?:%|€|£|\$|EUR|GBP|USD|Prozent|percent)?\)?\s*(?:in|im|for|für)?\s*"
                              r"(?:the\s+month\s+of\s+)?", text[end:after[0][0]], re.I):
        group = [after[0]]
        for nxt in after[1:]:
            if re.fullmatch(r"\s*(?:,|and|und|&|sowie)\s*", text[group[-1][1]:nxt[0]], re.I):
                group.append(nxt)
            else:
                break
        return [m for _s, _e, m in group]
    before = [s for s in spans if s[1] <= token.start]
    if before and re.fullmatch(r"[\s,:(]*(?:[^\s\d,;:]+\s+){0,4}(?:[€£$]|EUR|GBP|USD|US\$)?\s*",
                               text[before[-1][1]:token.start], re.I):
        return [before[-1][2]]
    return [m for _s, _e, m in spans] if len(spans) == 1 or len(counted) == 1 else []


def _differences(candidates: Sequence[tuple[Source, Fact]]) -> list[Fact]:
    """How far a value is from its target, in points ("8 points below the target")."""
    out = []
    for source, _fact in candidates:
        for a in source.assessments:
            if a.value is not None and a.threshold is not None:
                out.append(Fact(f"difference.{a.metric}", abs(a.value - a.threshold) * 100, "points", "computed",
                                a.metric))
    return out


def _fmt_value(value: float | None, a: Assessment) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f} %" if abs(value) <= 1.5 and a.metric != "nps_score" else f"{value:g}"


def _fmt_series(value: float) -> str:
    return f"{value * 100:.1f} %" if abs(value) <= 1.5 else f"{value:,.2f}"


def _shown(facts: Sequence[Fact], language: Language) -> str:
    return ", ".join(dict.fromkeys(f.display(language) for f in facts[:3]))
