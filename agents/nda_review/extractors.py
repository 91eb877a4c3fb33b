"""Deterministic extractors: German and English patterns that find each policy fact and its evidence.

They run first, on the whole text, and decide most rules on their own. Where a pattern finds the clause
but cannot read the fact (a duration in words it does not know, a court in a city it does not know, a
party structure it cannot tell), the fact is marked ``uncertain`` and its clauses become the only text
the LLM sees for that rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.nda_review.text import NdaText, Sentence, amounts, durations, number_value
from knowledge.chunking import Clause
from policies.nda import (
    RULES,
    AssignmentFacts,
    CiFacts,
    ExclusionFacts,
    IpFacts,
    LawFacts,
    MutualityFacts,
    NdaFacts,
    PenaltyFacts,
    RecipientFacts,
    ReturnFacts,
    RuleFacts,
    SolicitationFacts,
    SurvivalFacts,
    TermFacts,
    VenueFacts,
)

I = re.IGNORECASE  # noqa: E741


def rx(pattern: str, flags: int = I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


@dataclass
class Extraction:
    facts: NdaFacts
    candidates: dict[str, list[Clause]] = field(default_factory=dict)  # the clauses each rule was read from


# --- shared patterns ---------------------------------------------------------------------------------
SOLICIT = rx(r"abwerb|abzuwerben|solicit|\bhire\b|einzustellen|einstellen|employ (?:any|an)")
COMPETE = rx(r"wettbewerb|konkurren|non-compet|compete|manufacture or supply|exklusiv|exclusiv")
NOTICE = rx(r"Frist von|notice|Kündigungsfrist|prior written notice")
SURVIVAL_CONTEXT = rx(r"\bfort\b|fortgelten|fortbestehen|fortbesteh|nachwirk|surviv|"
                      r"nach (?:dem |ihrem |seinem |deren )?(?:Ende|Beendigung|Ablauf|Vertragsende)|"
                      r"über das Vertragsende|after (?:the |its )?"
                      r"(?:expiry|expiration|termination|end|last disclosure|disclosure)|after it ends|"
                      r"following (?:the )?(?:expiry|expiration|termination|end)|thereafter|danach|beyond")
TERM_CONTEXT = rx(r"Laufzeit|Dauer\b|in Kraft|in force|in effect|\bterm\b|\bgilt\b|\bgelten\b|läuft|\bruns?\b|remain|"
                  r"continue|endet|geschlossen|valid|duration|period")
INDEFINITE = rx(r"unbestimmte Zeit|unbefristet|auf unbestimmte Dauer|indefinite|until terminated|bis zur Kündigung|"
                r"until (?:it is )?terminated|no fixed term")
MUTUAL_ONLY_TERMINATION = rx(r"by mutual (?:written )?agreement|einvernehmlich|gemeinsam(?:e|er)? (?:schriftlich)")
TERMINATION = rx(r"kündig|terminat")
PERPETUAL = rx(r"zeitlich unbegrenzt|unbegrenzt fort|ohne zeitliche Begrenzung|unbefristet fort|in perpetuity|"
               r"perpetual|indefinitely|without (?:any )?(?:time )?limit|for ever|forever|auf Dauer fort")
TRADE_SECRET = rx(r"Geschäftsgeheimnis|trade secret")
WHILE = rx(r"solange|as long as|for so long|while")
NEGATION = rx(r"\bno\b|\bnot\b|\bnothing\b|\bkein\w*|\bnicht\b|\bweder\b|neither|\bnone\b")
LISTED_EXCEPTION = rx(r"other than|except|save (?:that|for|to)|außer|mit Ausnahme|ausgenommen|abgesehen von")


def _first(sentences: list[Sentence]) -> list[Sentence]:
    return sentences[:1]


def _facts(cls: type[RuleFacts], doc: NdaText, evidence: list[Sentence], **values: object) -> RuleFacts:
    return cls(found=bool(evidence) or bool(values.pop("found", False)),
               evidence=[doc.evidence(s) for s in evidence[:2]], **values)


# --- mutuality ---------------------------------------------------------------------------------------
MUTUAL = rx(r"\beach part(?:y|ies)\b|\beither party\b|\bboth parties\b|beide (?:Parteien|Vertragspartner|Seiten)|"
            r"\bjede (?:Partei|Seite)\b|gegenseitig|wechselseitig|\beinander\b|\beach other\b|one party[^.]{0,40}"
            r"the other party|eine Partei[^.]{0,60}(?:der )?anderen? Partei|a party[^.]{0,60}the other party|"
            r"\bmutual\b|\bMutual\b")
ONE_WAY = rx(r"one-way|einseitig|will not disclose any confidential information to|erhält von|"
             r"does not disclose|gibt (?:selbst )?keine")
DISCLOSER_LABEL = rx(r"[\"„“]\s*(?:the )?(?:Disclosing Party|Discloser|offenlegende Partei|Auftraggeber)\s*[\"“”]")
RECIPIENT_LABEL = rx(r"[\"„“]\s*(?:the )?(?:Recipient|Receiving Party|Empfänger|empfangende Partei)\s*[\"“”]")


def _role_of_us(doc: NdaText, our_names: list[str]) -> str | None:
    """"us" or "them" when the preamble binds a disclosing or receiving role to a named party."""
    head = doc.text[: (doc.clauses[1].start if len(doc.clauses) > 1 else 1500)]
    ours = [m.end() for name in our_names for m in re.finditer(re.escape(name), head)]
    for label, role in ((DISCLOSER_LABEL, "discloser"), (RECIPIENT_LABEL, "recipient")):
        for match in label.finditer(head):
            window = head[max(0, match.start() - 260):match.start()]
            # the nearest party name before the label owns it: ours, or the other party's
            nearest_ours = max((o for o in ours if o <= match.start()), default=-1)
            other = re.search(r"\b(?:GmbH|AG|Ltd|plc|Inc|LLC|SAS|s\.r\.o\.|KG)\b", head[nearest_ours:match.start()]) \
                if nearest_ours >= 0 else None
            if nearest_ours < 0 or match.start() - nearest_ours > len(window) or other:
                owner = "them"
            else:
                owner = "us"
            if role == "discloser":
                return owner
            return "them" if owner == "us" else "us"
    return None


def mutuality(doc: NdaText, our_names: list[str]) -> MutualityFacts:
    role = _role_of_us(doc, our_names)
    if role is not None:  # the preamble names who discloses: a one-way NDA
        labelled = [s for s in doc.sentences if DISCLOSER_LABEL.search(s.norm) or RECIPIENT_LABEL.search(s.norm)]
        evidence = doc.matching(ONE_WAY) or labelled or doc.sentences[:1]
        return _facts(MutualityFacts, doc, _first(evidence), discloser=role)  # type: ignore[return-value]
    mutual = doc.matching(MUTUAL, doc.sentences[: max(8, len(doc.sentences) // 3)])
    if mutual:
        return _facts(MutualityFacts, doc, _first(mutual), discloser="both")  # type: ignore[return-value]
    return MutualityFacts(found=False, uncertain=True, note="no mutual wording and no party named as discloser")


# --- term and survival -------------------------------------------------------------------------------
def _years(sentence: Sentence) -> float | None:
    spans = [d for d in durations(sentence.norm) if d.unit in ("years", "months")]
    return round(spans[0].years, 2) if spans else None


def _other_context(sentence: Sentence) -> bool:
    return bool(SOLICIT.search(sentence.norm) or COMPETE.search(sentence.norm) or NOTICE.search(sentence.norm))


def term(doc: NdaText) -> TermFacts:
    candidates = [s for s in doc.matching(TERM_CONTEXT) if not _other_context(s)
                  and not SURVIVAL_CONTEXT.search(s.norm) and not TRADE_SECRET.search(s.norm)]
    for sentence in candidates:
        if INDEFINITE.search(sentence.norm):
            nearby = doc.around(sentence)
            right = bool(TERMINATION.search(nearby)) and not MUTUAL_ONLY_TERMINATION.search(nearby)
            return _facts(TermFacts, doc, [sentence], indefinite=True,  # type: ignore[return-value]
                          termination_right=right)
        if (years := _years(sentence)) is not None and re.search(r"Vereinbarung|Agreement|Abrede|Erklärung|"
                                                                  r"Vertrag|diese[rs]?|this|it\b", sentence.norm, I):
            return _facts(TermFacts, doc, [sentence], years=years)  # type: ignore[return-value]
    named = [s for s in candidates if re.search(r"Laufzeit|\bterm\b|Dauer|duration", s.norm, I)]
    if named:
        return TermFacts(found=True, evidence=[doc.evidence(named[0])], uncertain=True,
                         note="a term clause without a duration the patterns can read")
    return TermFacts()


def survival(doc: NdaText) -> SurvivalFacts:
    secrets = [s for s in doc.matching(TRADE_SECRET) if WHILE.search(s.norm)]
    carve_out = bool(secrets)
    perpetual = [s for s in doc.matching(PERPETUAL) if not (TRADE_SECRET.search(s.norm) and WHILE.search(s.norm))
                 and not _other_context(s) and not INDEFINITE.search(s.norm.replace("fort", ""))]
    if perpetual:
        return _facts(SurvivalFacts, doc, perpetual, perpetual=True,  # type: ignore[return-value]
                      trade_secret_carve_out=carve_out)
    for sentence in doc.matching(SURVIVAL_CONTEXT):
        if _other_context(sentence) or TRADE_SECRET.search(sentence.norm):
            continue
        if (years := _years(sentence)) is not None:
            return _facts(SurvivalFacts, doc, [sentence, *secrets], years=years,  # type: ignore[return-value]
                          trade_secret_carve_out=carve_out)
    return SurvivalFacts(trade_secret_carve_out=carve_out)


# --- law and venue -----------------------------------------------------------------------------------
LAWS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("DE", rx(r"deutsche[mns]?\s+Recht|Recht\s+der\s+Bundesrepublik\s+Deutschland|\bGerman\s+law|laws?\s+of\s+"
              r"(?:the\s+)?(?:Federal\s+Republic\s+of\s+)?Germany|Recht\s+Deutschlands")),
    ("CH", rx(r"schweizerische[mns]?\s+Recht|Swiss\s+law|laws?\s+of\s+Switzerland|Recht\s+der\s+Schweiz")),
    ("AT", rx(r"österreichische[mns]?\s+Recht|Austrian\s+law|laws?\s+of\s+(?:the\s+Republic\s+of\s+)?Austria|"
              r"Recht\s+(?:der\s+Republik\s+)?Österreich")),
    ("FR", rx(r"französische[mns]?\s+Recht|French\s+law|laws?\s+of\s+France|droit\s+français")),
    ("NL", rx(r"niederländische[mns]?\s+Recht|Dutch\s+law|laws?\s+of\s+the\s+Netherlands")),
    ("IT", rx(r"italienische[mns]?\s+Recht|Italian\s+law|laws?\s+of\s+Italy")),
    ("ES", rx(r"spanische[mns]?\s+Recht|Spanish\s+law|laws?\s+of\s+Spain")),
    ("PL", rx(r"polnische[mns]?\s+Recht|Polish\s+law|laws?\s+of\s+Poland")),
    ("CZ", rx(r"tschechische[mns]?\s+Recht|Czech\s+law|laws?\s+of\s+the\s+Czech\s+Republic")),
    ("SE", rx(r"schwedische[mns]?\s+Recht|Swedish\s+law|laws?\s+of\s+Sweden")),
    ("GB", rx(r"\bEnglish\s+law|laws?\s+of\s+England|englische[mns]?\s+Recht|Recht\s+von\s+England|"
              r"laws?\s+of\s+Scotland|Scots\s+law")),
    ("US-NY", rx(r"State\s+of\s+New\s+York|New\s+York\s+law|Staates\s+New\s+York")),
    ("US-DE", rx(r"State\s+of\s+Delaware|Delaware\s+law|Staates\s+Delaware")),
    ("US-CA", rx(r"State\s+of\s+California|California\s+law")),
    ("US", rx(r"laws?\s+of\s+the\s+State\s+of\s+\w+|laws?\s+of\s+the\s+United\s+States")),
)
LAW_CHOICE = rx(r"governed|unterliegt|untersteht|es gilt|\bgilt\b|applies|anwendbar|applicable law|anzuwenden|"
                r"construed|Rechtswahl")
CISG = rx(r"UN-Kaufrecht|\bCISG\b|Wiener Kaufrecht|Sale of Goods|internationalen Warenkauf")
EXCLUDED = rx(r"Ausschluss|ausgeschlossen|exclud|exclusion|shall not apply|findet keine Anwendung|without regard")


def governing_law(doc: NdaText) -> LawFacts:
    for sentence in doc.matching(LAW_CHOICE):
        for code, pattern in LAWS:
            if pattern.search(sentence.norm):
                nearby = doc.around(sentence, after=1)
                cisg = CISG.search(nearby)
                excluded = bool(cisg and EXCLUDED.search(nearby[max(0, cisg.start() - 80):cisg.end() + 40]))
                return _facts(LawFacts, doc, [sentence], law=code, cisg_excluded=excluded)  # type: ignore[return-value]
    vague = [s for s in doc.matching(LAW_CHOICE) if re.search(r"\bRecht\b|\blaws?\b", s.norm, I)
             and re.search(r"governed|unterliegt|untersteht|Es gilt", s.norm, I)]
    if vague:
        return LawFacts(found=True, evidence=[doc.evidence(vague[0])], uncertain=True,
                        note="a choice of law the patterns cannot place")
    return LawFacts()


CITIES = {
    "DE": "Bremen Hamburg München Munich Berlin Frankfurt Stuttgart Köln Cologne Düsseldorf Hannover Osnabrück "
          "Dresden Leipzig Nürnberg Nuremberg Essen Dortmund Bielefeld Mannheim Karlsruhe Freiburg Kiel Lübeck "
          "Oldenburg Delmenhorst Bonn Wiesbaden Mainz Augsburg Regensburg Ulm Heilbronn Darmstadt Münster",
    "AT": "Wien Vienna Linz Graz Salzburg Innsbruck Klagenfurt",
    "CH": "Zürich Zurich Basel Bern Berne Genf Geneva Lausanne Winterthur Luzern Lucerne Lugano",
    "GB": "London Leeds Manchester Sheffield Birmingham Edinburgh Glasgow Ipswich Bristol",
    "US": "York Erie Wilmington Delaware Chicago Buffalo Boston Houston Detroit Francisco Angeles",
    "FR": "Paris Lyon Marseille Strasbourg Straßburg",
    "CZ": "Prague Prag Praha Ostrava Brno",
    "NL": "Amsterdam Rotterdam Den",
    "IT": "Milan Mailand Milano Rome Rom Turin",
    "ES": "Madrid Barcelona",
    "PL": "Warsaw Warschau Krakau",
    "SE": "Stockholm Göteborg",
}
CITY_COUNTRY = {city.lower(): country for country, names in CITIES.items() for city in names.split()}
ARBITRATION = rx(r"schiedsgericht|schiedsverfahren|schiedsrichter|schiedsort|arbitrat")
INSTITUTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("DIS", rx(r"\bDIS\b|Deutschen? Institution für Schiedsgerichtsbarkeit", 0)),
    ("ICC", rx(r"\bICC\b|Internationalen Handelskammer|International Chamber of Commerce", 0)),
    ("LCIA", rx(r"\bLCIA\b|London Court of International Arbitration", 0)),
    ("VIAC", rx(r"\bVIAC\b|Vienna International Arbitral Centre|Wiener Regeln", 0)),
    ("SCC", rx(r"\bSCC\b|Stockholm Chamber of Commerce", 0)),
    ("Swiss Rules", rx(r"Swiss Rules|Swiss Chambers", 0)),
    ("UNCITRAL", rx(r"UNCITRAL", 0)),
)
SEAT = rx(r"(?:Schiedsort|Sitz des Schiedsgerichts|seat of (?:the )?arbitration|place of arbitration)\s*"
          r"(?:ist|is|shall be|:)?\s*(?P<place>[A-ZÄÖÜ][^,.;()]{1,40})|(?:mit Sitz in|seated in)\s+(?P<place2>[A-ZÄÖÜ]"
          r"[^,.;()]{1,40})", 0)
COURTS = rx(r"Gerichtsstand(?:[^.;]{0,80}?)\s+(?:ist|sind|:)\s*(?P<place>[A-ZÄÖÜ][^,.;()]{1,40})|"
            r"courts?\s+(?:of|in|at|located in|sitting in|situated in)\s+(?:the\s+)?(?P<place2>[A-ZÄÖÜ][^,.;()]{1,40})|"
            r"Gerichte\s+(?:in|von|zu)\s+(?P<place3>[A-ZÄÖÜ][^,.;()]{1,40})|"
            r"(?:Tribunal|Cour)[^.;]{0,80}?\bde\s+(?P<place4>[A-ZÄÖÜ]\w+)|"
            r"jurisdiction of the[^.;]{0,80}?courts?[^.;]{0,40}?\bin\s+(?P<place5>[A-ZÄÖÜ][^,.;()]{1,40})|"
            r"(?:place of jurisdiction|venue)\s+(?:is|shall be)\s+(?:in\s+)?(?P<place6>[A-ZÄÖÜ][^,.;()]{1,40})", 0)
JURISDICTION_WORDS = rx(r"Gerichtsstand|jurisdiction|courts?\b|Gerichte|Tribunal|Streitigkeiten|disputes?")


def _country(place: str) -> str | None:
    for word in re.findall(r"[\wÄÖÜäöüß]+", place):
        if (country := CITY_COUNTRY.get(word.lower())) is not None:
            return country
    return None


def _place(match: re.Match[str]) -> str:
    value = next(v for k, v in match.groupdict().items() if v)
    return re.sub(r"\s+(?:Germany|Deutschland|shall|have|hat|haben|exclusive|ausschließlich|for|für)\b.*$", "",
                  value.strip())


def jurisdiction(doc: NdaText) -> VenueFacts:
    for sentence in doc.matching(ARBITRATION):
        nearby = doc.around(sentence, before=2, after=2)
        institution = next((name for name, pattern in INSTITUTIONS if pattern.search(nearby)), None)
        seat = SEAT.search(nearby)
        place = _place(seat) if seat else None
        country = _country(place) if place else None
        if institution or seat:
            return _facts(VenueFacts, doc, [sentence], kind="arbitration",  # type: ignore[return-value]
                          institution=institution, place=place, country=country,
                          uncertain=institution is None or country is None,
                          note=None if institution and country else "arbitration without a known institution or seat")
    for sentence in doc.matching(JURISDICTION_WORDS):
        if (match := COURTS.search(sentence.norm)) is not None:
            place = _place(match)
            country = _country(place)
            return _facts(VenueFacts, doc, [sentence], kind="courts", place=place,  # type: ignore[return-value]
                          country=country, uncertain=country is None,
                          note=None if country else f"courts of {place!r}: a place the patterns do not know")
    return VenueFacts()


# --- definition, exclusions, recipients, return -----------------------------------------------------
CI_DEFINITION = rx(r"Vertrauliche Informationen\W{0,3}\s*(?:sind|im Sinne|gelten|bezeichnet)|Als vertraulich gelten|"
                   r"Vertraulich sind|Confidential Information\W{0,3}\s*(?:means|includes|shall mean|is)|"
                   r"(?:information|Informationen?) (?:is|are|sind|gelten|ist) (?:as )?(?:confidential|vertraulich)"
                   r"\s*(?:if|wenn|sofern)|Information is confidential|gilt als vertraulich|nicht vertraulich sind")
ALL_INFORMATION = rx(r"whether or not|regardless of|unabhängig von (?:einer |der )?Kennzeichnung|ob (?:sie )?"
                     r"(?:als vertraulich )?gekennzeichnet|reasonable person|aus den Umständen|by (?:its|their) nature|"
                     r"without (?:any )?marking|ohne Kennzeichnung|gleich ob|in any form, whether")
MARKED = rx(r"gekennzeichnet|bezeichnet|\bmarked\b|designated|identified as (?:such|confidential)|labell?ed|"
            r"als vertraulich bestätigt|confirmed (?:as confidential|in writing)")
CONFIRM_DAYS = rx(r"(?:innerhalb|binnen)\s+(?:von\s+)?(?P<a>\d+|\w+)\s+(?:\(\d+\)\s+)?(?:Kalender)?Tag|within\s+"
                  r"(?P<b>\d+|\w+)\s*(?:\(\s*\d+\s*\)\s*)?(?:calendar\s+)?days")


def ci_definition(doc: NdaText) -> CiFacts:
    defining = [s for s in doc.matching(CI_DEFINITION) if not re.search(r"nicht vertraulich sind", s.norm, I)]
    if not defining:
        return CiFacts()
    text = " ".join(doc.around(s, after=2) for s in defining)
    everything = bool(ALL_INFORMATION.search(" ".join(s.norm for s in defining)))
    marked = bool(MARKED.search(text))
    days_match = CONFIRM_DAYS.search(text)
    days = None
    if days_match and (value := number_value(days_match["a"] or days_match["b"])) is not None:
        days = int(value)
    return _facts(CiFacts, doc, defining, marking_required=marked and not everything,  # type: ignore[return-value]
                  all_information=everything or not marked, oral_confirmation_days=days)


EXCLUSION_INTRO = rx(r"gelten nicht|gilt nicht|bestehen nicht|do(?:es)? not apply|shall not apply|not apply to|"
                     r"\bAusnahmen\b|\bExceptions?\b|\bExclusions?\b|ausgenommen sind|"
                     r"von der Geheimhaltung ausgenommen|nicht vertraulich sind|restrictions shall not|does not cover|"
                     r"Nicht vertraulich|not cover")
EXCLUSION_KINDS: dict[str, re.Pattern[str]] = {
    "public": rx(r"öffentlich|allgemein (?:bekannt|zugänglich)|public"),
    "already_known": rx(r"bereits (?:rechtmäßig )?bekannt|schon bekannt|bereits vor der Offenlegung|bereits[^.;]{0,40}"
                        r"(?:im Besitz|bekannt)|already known|(?:known|available) to (?:the )?(?:receiving party|"
                        r"recipient|it)[^.;]{0,40}(?:prior|before)|in (?:its|the) possession|prior to (?:its )?"
                        r"disclosure|before (?:receipt|disclosure)|rightfully known|lawfully in the possession|"
                        r"rechtmäßig bekannt|bei Erhalt bereits|already in"),
    "independently_developed": rx(r"unabhängig[^.;]{0,60}entwickelt|selbst(?:ändig|ständig)? entwickelt|"
                                  r"independently develop|develops? independently|independently created"),
    "third_party": rx(r"Dritte[nmr]?\b|third part"),
    "required_by_law": rx(r"gesetzlich|Gesetze?s?\b|behördlich|gerichtlich|Anordnung|Verfügung|by law|court order|"
                          r"regulat|authorit|legal(?:ly)? (?:required|obligation)|required to be disclosed|"
                          r"must be disclosed|applicable law|judicial"),
}


# telling the other party before a disclosure the law requires ("Informationen" is not "informieren")
DISCLOSURE_NOTICE = rx(r"unterricht\w*|informier(?:t|en)\b|zu informieren|benachrichtig\w*|in Kenntnis setz|"
                      r"\bnotif(?:y|ies|ied|ying|ication)\b|\bnotice\b|\binform(?:s|ed)?\s+(?:the|it|them)\b")


def exclusions(doc: NdaText) -> tuple[ExclusionFacts, list[Clause]]:
    intro = doc.matching(EXCLUSION_INTRO)
    clauses_ = list(dict.fromkeys(s.clause for s in intro))
    if not clauses_:
        return ExclusionFacts(), []
    # the exceptions are listed from the introducing sentence on, within its clause (items are sentences)
    text = " ".join(doc.around(s, after=6) for s in intro)
    present = [kind for kind, pattern in EXCLUSION_KINDS.items() if pattern.search(text)]
    notice = "required_by_law" in present and bool(DISCLOSURE_NOTICE.search(text))
    return _facts(ExclusionFacts, doc, intro, present=present,  # type: ignore[return-value]
                  disclosure_notice=notice), clauses_


DISCLOSE_TO = rx(r"weiterge|Weitergabe|\b(?:gibt|geben|gebe)\b[^.;]{0,200}\bweiter\b|zugänglich (?:zu )?mach|"
                 r"offenleg\w* (?:an|gegenüber)|disclos\w*[^.;]{0,60}\bto\b|share[sd]?\b[^.;]{0,40}\bwith\b|"
                 r"make (?:it |them )?available to|Zugang")
RECIPIENT_KINDS: dict[str, re.Pattern[str]] = {
    "employees": rx(r"Mitarbeiter|Arbeitnehmer|Angestellte|Beschäftigte|employees|personnel|staff|Organe|directors|"
                    r"officers"),
    "affiliates": rx(r"verbundene\w* Unternehmen|affiliat|Konzerngesellschaft"),
    "advisers": rx(r"Berater|advis[eo]r|consultant|Rechtsanw|Steuerberater|Wirtschaftsprüfer|auditor|lawyer|"
                   r"accountant|professional"),
    "suppliers_subcontractors": rx(r"Zulieferer|Lieferanten|Unterauftragnehmer|Subunternehmer|Nachunternehmer|"
                                   r"subcontractor|supplier|contractor|sub-contractor"),
}
FORBIDS = rx(r"ausgeschlossen|nicht gestattet|nicht zulässig|untersagt|verboten|not permitted|prohibited|excluded|"
             r"shall not (?:disclose|share)|may not (?:disclose|share)|will not (?:disclose|share)|requires? the prior "
             r"written consent|bedarf der (?:vorherigen )?(?:schriftlichen )?Zustimmung")


def permitted_recipients(doc: NdaText) -> tuple[RecipientFacts, list[Clause]]:
    sentences = [s for s in doc.matching(DISCLOSE_TO)
                 if any(p.search(s.norm) for p in RECIPIENT_KINDS.values()) or FORBIDS.search(s.norm)]
    sentences = [s for s in sentences if not SOLICIT.search(s.norm)]
    if not sentences:
        return RecipientFacts(), []
    allowed: set[str] = set()
    banned: set[str] = set()
    for sentence in sentences:
        named = {kind for kind, pattern in RECIPIENT_KINDS.items() if pattern.search(sentence.norm)}
        negative = FORBIDS.search(sentence.norm) and not LISTED_EXCEPTION.search(sentence.norm)
        (banned if negative else allowed).update(named)
    kept = sorted(allowed - banned, key=list(RECIPIENT_KINDS).index)
    evidence = [s for s in sentences if any(p.search(s.norm) for p in RECIPIENT_KINDS.values())]
    facts = _facts(RecipientFacts, doc, evidence or sentences, allowed=kept)
    return facts, list(dict.fromkeys(s.clause for s in sentences))  # type: ignore[return-value]


RETURN = rx(r"zurück(?:zu)?geben|Rückgabe|gibt[^.;]{0,120}zurück|zurückgegeben|vernicht|lösch|\breturn|\bdestroy|"
            r"\bdelete|destruction")
RETENTION = rx(r"Aufbewahrung|aufzubewahren|aufbewahren|aufbewahrt|Datensicherung|Sicherungskopie|Sicherungen|"
               r"Backup|back-up|archiv|record-keeping|\bretain|retention|keep copies|may keep|must keep|behalten|"
               r"required to keep|vorgehalten")


def return_destroy(doc: NdaText) -> tuple[ReturnFacts, list[Clause]]:
    sentences = [s for s in doc.matching(RETURN)
                 if not re.search(r"Rückmeldung|return on investment|in return\b", s.norm, I)]
    if not sentences:
        return ReturnFacts(), []
    chosen = list(dict.fromkeys(s.clause for s in sentences))
    window = " ".join(doc.around(s, after=2) for s in sentences[:2])
    carve_out = bool(RETENTION.search(window))
    nearby = [s for s in doc.in_clauses(chosen) if RETENTION.search(s.norm) and s.norm in window]
    evidence = nearby if carve_out and nearby else sentences
    return _facts(ReturnFacts, doc, evidence, retention_carve_out=carve_out), chosen  # type: ignore[return-value]


# --- clauses the policy does not want ---------------------------------------------------------------
RESIDUALS = rx(r"\bresidual|unaided memor|im Gedächtnis|in (?:the|their) memor|retained in (?:the )?(?:unaided )?memor")
NON_COMPETE = rx(r"Wettbewerbsverbot|Konkurrenzverbot|non-compet|NON-COMPETITION|not (?:to )?compete|"
                 r"Exklusivität|exclusivity|exklusiv\w* (?:Liefer|Bezug)|exclusive (?:supplier|supply|purchasing)|"
                 r"shall not[^.;]{0,120}(?:manufacture|supply|sell|develop|market)[^.;]{0,160}(?:customer|compet|"
                 r"product)|keine[^.;]{0,60}(?:konkurrierende|Wettbewerbs)")
PENALTY = rx(r"Vertragsstrafe|Konventionalstrafe|contractual penalty|liquidated damages|penalty of|pénalité|"
             r"Strafzahlung|agreed damages|pauschalierte[rn]? Schadensersatz")
LICENCE = rx(r"licen[cs]e|Lizenz|Nutzungsrecht|right to use")
GRANT = rx(r"\bgrant|erteil|eingeräumt|einräum|gewähr|is granted|are granted|vergeben")
FEEDBACK = rx(r"feedback|suggestion|improvement|Verbesserung|Weiterentwicklung|Rückmeldung|Anregung")
OWNERSHIP = rx(r"property of|belong|owned by|Eigentum|gehör|zustehen|\bsteht[^.;]{0,60}\bzu\b|vest in|shall become")
RECIPIENT_SIDE = rx(r"Recipient|Receiving Party|empfangende|Empfänger|the other party|der anderen Partei")
DISCLOSER_SIDE = rx(r"Disclosing Party|Discloser|offenlegende")
INDEMNITY = rx(r"indemnif|hold (?:\w+ )?harmless|freizustellen|Freistellung|stellt[^.;]{0,160}\bfrei\b|schadlos")
ASSIGNMENT = rx(r"abtret|Abtretung|\bassign|(?:übertrag|Übertragung|transfer)[^.;]{0,80}(?:Vereinbarung|Agreement|"
                r"Rechte|rights)|(?:Vereinbarung|Agreement|Rechte|rights)[^.;]{0,80}(?:übertrag|transfer)")
CONSENT = rx(r"Zustimmung|consent|Einwilligung|Genehmigung")
FREE_ASSIGNMENT = rx(r"(?:ist|sind) berechtigt|may (?:freely )?assign|is entitled|free to assign|"
                     r"ohne Zustimmung[^.;]{0,80}(?:zu )?übertragen|"
                     r"without (?:the )?(?:prior )?(?:written )?consent[^.;]{0,40}(?:may|is free)")
PROHIBITS = rx(r"Keine Partei|Neither|No party|darf[^.;]{0,40}nur|nur mit|may not|shall not|nicht berechtigt|bedarf|"
               r"requires?|nicht ohne|not without|darf keine|dürfen[^.;]{0,60}nur|darf [^.;]{0,80}nur")
AFFILIATE = rx(r"verbundene|affiliat|Konzern")


def _presence(doc: NdaText, pattern: re.Pattern[str], *, negated_out: bool = True) -> RuleFacts:
    sentences = [s for s in doc.matching(pattern) if not (negated_out and re.match(r"(?:kein|no)\b", s.norm, I))]
    return _facts(RuleFacts, doc, sentences)


def non_solicitation(doc: NdaText) -> SolicitationFacts:
    sentences = [s for s in doc.matching(SOLICIT) if RECIPIENT_KINDS["employees"].search(s.norm)
                 or re.search(r"employee|Mitarbeiter", s.norm, I)]
    if not sentences:
        return SolicitationFacts()
    spans = [d for d in durations(sentences[0].norm) if d.unit in ("months", "years")]
    months = round(spans[-1].years * 12, 1) if spans else None
    scope = "directly_involved" if re.search(r"unmittelbar[^.;]{0,60}beteiligt|directly involved|who (?:was|were|are|"
                                             r"is) (?:directly )?involved|worked on", sentences[0].norm, I) else "all"
    return _facts(SolicitationFacts, doc, sentences, months=months, scope=scope,  # type: ignore[return-value]
                  uncertain=months is None)


def penalty(doc: NdaText) -> PenaltyFacts:
    sentences = [s for s in doc.matching(PENALTY) if not re.search(r"keine Vertragsstrafe|no (?:contractual )?penalt",
                                                                     s.norm, I)]
    if not sentences:
        return PenaltyFacts()
    found = amounts(sentences[0].norm)
    amount, currency = found[0] if found else (None, None)
    return _facts(PenaltyFacts, doc, sentences, amount=amount, currency=currency)  # type: ignore[return-value]


def ip(doc: NdaText) -> IpFacts:
    licences = [s for s in doc.matching(LICENCE) if GRANT.search(s.norm) and not NEGATION.search(s.norm)]
    feedback = [s for s in doc.matching(FEEDBACK) if OWNERSHIP.search(s.norm) and RECIPIENT_SIDE.search(s.norm)
                and not DISCLOSER_SIDE.search(s.norm)]
    return _facts(IpFacts, doc, licences + feedback, licence=bool(licences),  # type: ignore[return-value]
                  feedback_ownership=bool(feedback))


def liability(doc: NdaText) -> RuleFacts:
    sentences = [s for s in doc.matching(INDEMNITY) if not re.search(r"keine Freistellung|no indemn", s.norm, I)]
    return _facts(RuleFacts, doc, sentences)


def assignment(doc: NdaText) -> AssignmentFacts:
    sentences = doc.matching(ASSIGNMENT)
    if not sentences:
        return AssignmentFacts()
    text = " ".join(doc.around(s, after=1) for s in sentences[:2])
    free = bool(FREE_ASSIGNMENT.search(text)) and not PROHIBITS.search(text)
    consent = not free and bool(CONSENT.search(text))
    return _facts(AssignmentFacts, doc, sentences, consent_required=False if free else consent,  # type: ignore[return-value]
                  affiliate_exception=bool(AFFILIATE.search(text)) and not free,
                  uncertain=not free and not consent)


# --- all of it ---------------------------------------------------------------------------------------
def extract_facts(doc: NdaText, our_names: list[str]) -> Extraction:
    """Every rule's facts from the patterns, and for each rule the clauses they were read from."""
    excl, excl_clauses = exclusions(doc)
    recipients, recipient_clauses = permitted_recipients(doc)
    returned, return_clauses = return_destroy(doc)
    facts = NdaFacts(
        mutuality=mutuality(doc, our_names), term=term(doc), survival=survival(doc),
        governing_law=governing_law(doc), jurisdiction=jurisdiction(doc), ci_definition=ci_definition(doc),
        exclusions=excl, permitted_recipients=recipients, return_destroy=returned,
        residuals=_presence(doc, RESIDUALS), non_solicitation=non_solicitation(doc),
        non_compete=_presence(doc, NON_COMPETE), penalty=penalty(doc), ip=ip(doc), liability=liability(doc),
        assignment=assignment(doc))
    candidates: dict[str, list[Clause]] = {"exclusions": excl_clauses, "permitted_recipients": recipient_clauses,
                                           "return_destroy": return_clauses}
    by_offset = {c.start: c for c in doc.clauses}
    for rule in RULES:
        if rule in candidates:
            continue
        starts = {_clause_at(doc, e.start).start for e in facts.of(rule).evidence}
        candidates[rule] = [by_offset[s] for s in sorted(starts)]
    return Extraction(facts, candidates)


def _clause_at(doc: NdaText, offset: int) -> Clause:
    return next(c for c in reversed(doc.clauses) if c.start <= offset)


EXTRACTORS: dict[str, Callable[..., object]] = {"term": term, "survival": survival, "governing_law": governing_law,
                                                "jurisdiction": jurisdiction}
