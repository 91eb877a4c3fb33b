"""The NDA policy and its judge: facts in, findings and a verdict out. No LLM, no text reading here.

The reader (``agents/nda_review``) turns an NDA into :class:`NdaFacts`, each fact with verbatim evidence;
:func:`judge` compares the facts with ``policies/files/nda.yaml`` rule by rule. Every figure and every
phrase of company position in an explanation comes from the policy file or from the facts.

Status per rule: ``deviation`` (the clause is there and the policy does not accept it), ``compliant``
(there and acceptable, or a clause the policy forbids is absent), ``not_found`` (a clause the policy wants
is absent; its ``if_missing`` severity applies). Verdict: accept (nothing above low), negotiate (medium, no
high), escalate (any high).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.i18n import Language
from policies.config import POLICY_DIR, load_file

Severity = Literal["low", "medium", "high"]
Status = Literal["deviation", "compliant", "not_found"]
Verdict = Literal["accept", "negotiate", "escalate"]
Source = Literal["rules", "llm", "fallback"]
RULES = ("mutuality", "term", "survival", "governing_law", "jurisdiction", "ci_definition", "exclusions",
         "permitted_recipients", "return_destroy", "residuals", "non_solicitation", "non_compete", "penalty", "ip",
         "liability", "assignment")
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


# --- the policy file -----------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wording(_Strict):
    de: str
    en: str


class RulePolicy(_Strict):
    fallback: Wording
    severity: Severity = "medium"
    if_missing: Severity | None = None
    max_years: float | None = None
    medium_up_to_years: float | None = None
    perpetual: Severity | None = None
    preferred: str | None = None
    accepted: list[str] = Field(default_factory=list)
    cisg_not_excluded: Severity | None = None
    preferred_court: str | None = None
    court_countries: list[str] = Field(default_factory=list)
    arbitration_institutions: list[str] = Field(default_factory=list)
    arbitration_seat_countries: list[str] = Field(default_factory=list)
    oral_confirmation_days: int | None = None
    required: list[str] = Field(default_factory=list)
    minor: list[str] = Field(default_factory=list)
    one_missing: Severity | None = None
    two_or_more_missing: Severity | None = None
    max_months: int | None = None
    scope: str | None = None

    def wording(self, language: Language) -> str:
        values = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in self.model_dump().items()
                  if isinstance(v, (int, float, str))}
        return getattr(self.fallback, language).format(**values)


class NdaPolicy(_Strict):
    version: str
    our_names: list[str] = Field(min_length=1)
    rules: dict[str, RulePolicy]

    def model_post_init(self, _context: Any) -> None:
        missing = set(RULES) - set(self.rules)
        if missing:
            raise ValueError(f"rules missing: {', '.join(sorted(missing))}")


@lru_cache
def get_nda_policy(directory: Path = POLICY_DIR) -> NdaPolicy:
    return load_file(directory / "nda.yaml", NdaPolicy)


# --- the facts the reader hands in ---------------------------------------------------------------------
class Evidence(BaseModel):
    quote: str
    start: int
    end: int
    page: int | None = None
    clause: str | None = None


class RuleFacts(BaseModel):
    found: bool = False
    evidence: list[Evidence] = Field(default_factory=list)
    source: Source = "rules"
    uncertain: bool = False  # the reader could not confirm it: a person should look
    note: str | None = None  # why it is uncertain, or what the model said


class MutualityFacts(RuleFacts):
    discloser: Literal["both", "us", "them"] | None = None  # who discloses: both, only us, only the other party


class TermFacts(RuleFacts):
    years: float | None = None
    indefinite: bool = False
    termination_right: bool | None = None


class SurvivalFacts(RuleFacts):
    years: float | None = None
    perpetual: bool = False
    trade_secret_carve_out: bool = False


class LawFacts(RuleFacts):
    law: str | None = None  # DE, CH, AT, FR, GB, US-NY, US-DE, … ("EU" never: always a member state)
    cisg_excluded: bool | None = None


class VenueFacts(RuleFacts):
    kind: Literal["courts", "arbitration"] | None = None
    place: str | None = None
    country: str | None = None
    institution: str | None = None


class CiFacts(RuleFacts):
    marking_required: bool | None = None
    all_information: bool = False  # everything is confidential whatever its marking
    oral_confirmation_days: int | None = None


class ExclusionFacts(RuleFacts):
    present: list[str] = Field(default_factory=list)
    disclosure_notice: bool = False  # a disclosure required by law is announced to the other party first


class RecipientFacts(RuleFacts):
    allowed: list[str] = Field(default_factory=list)


class ReturnFacts(RuleFacts):
    retention_carve_out: bool = False


class SolicitationFacts(RuleFacts):
    months: float | None = None
    scope: Literal["directly_involved", "all"] | None = None


class PenaltyFacts(RuleFacts):
    amount: float | None = None
    currency: str | None = None


class IpFacts(RuleFacts):
    licence: bool = False
    feedback_ownership: bool = False


class AssignmentFacts(RuleFacts):
    consent_required: bool | None = None
    affiliate_exception: bool = False


class NdaFacts(BaseModel):
    mutuality: MutualityFacts = Field(default_factory=MutualityFacts)
    term: TermFacts = Field(default_factory=TermFacts)
    survival: SurvivalFacts = Field(default_factory=SurvivalFacts)
    governing_law: LawFacts = Field(default_factory=LawFacts)
    jurisdiction: VenueFacts = Field(default_factory=VenueFacts)
    ci_definition: CiFacts = Field(default_factory=CiFacts)
    exclusions: ExclusionFacts = Field(default_factory=ExclusionFacts)
    permitted_recipients: RecipientFacts = Field(default_factory=RecipientFacts)
    return_destroy: ReturnFacts = Field(default_factory=ReturnFacts)
    residuals: RuleFacts = Field(default_factory=RuleFacts)
    non_solicitation: SolicitationFacts = Field(default_factory=SolicitationFacts)
    non_compete: RuleFacts = Field(default_factory=RuleFacts)
    penalty: PenaltyFacts = Field(default_factory=PenaltyFacts)
    ip: IpFacts = Field(default_factory=IpFacts)
    liability: RuleFacts = Field(default_factory=RuleFacts)
    assignment: AssignmentFacts = Field(default_factory=AssignmentFacts)

    def of(self, rule: str) -> RuleFacts:
        facts: RuleFacts = getattr(self, rule)
        return facts


# --- findings ------------------------------------------------------------------------------------------
class Finding(BaseModel):
    rule: str
    status: Status
    severity: Severity | None  # None when compliant
    explanation: str
    fallback: str | None  # the wording to propose, when the clause deviates or is missing
    quote: str | None
    page: int | None
    start: int | None
    end: int | None
    clause: str | None
    uncertain: bool
    source: Source


class Judgement(BaseModel):
    verdict: Verdict
    # the rules whose readings no check confirmed: a verdict resting on them is provisional
    unverified: list[str] = Field(default_factory=list)
    findings: list[Finding]
    policy_version: str
    language: Language


Text = dict[Language, str]
Outcome = tuple[Status, Severity | None, Text]


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _ok(de: str, en: str) -> Outcome:
    return "compliant", None, {"de": de, "en": en}


def _dev(severity: Severity | None, de: str, en: str) -> Outcome:
    return "deviation", severity, {"de": de, "en": en}


def _missing(policy: RulePolicy, de: str, en: str) -> Outcome:
    return "not_found", policy.if_missing, {"de": de, "en": en}


def _mutuality(f: MutualityFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found or f.discloser is None:
        return _missing(p, "Nicht erkennbar, welche Partei offenlegt.", "It is not clear which party discloses.")
    if f.discloser == "both":
        return _ok("Gegenseitige Vereinbarung.", "Mutual agreement.")
    if f.discloser == "us":
        return _ok("Einseitig, aber nur wir legen offen.", "One-way, but only we disclose.")
    return _dev(p.severity, "Einseitig zugunsten der anderen Partei: nur sie legt offen, nur wir sind gebunden.",
                "One-way in the other party's favour: only it discloses, only we are bound.")


def _term(f: TermFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    cap, medium = p.max_years, p.medium_up_to_years
    if f.indefinite:
        if f.termination_right:
            return _ok("Unbefristet, aber kündbar.", "Indefinite, but it can be terminated.")
        return _dev("high", "Unbefristet ohne Kündigungsrecht.", "Indefinite without a right to terminate.")
    if not f.found or f.years is None:
        return _missing(p, "Keine Laufzeit vereinbart.", "No agreement term is stated.")
    if cap is not None and f.years <= cap:
        return _ok(f"Laufzeit {_fmt(f.years)} Jahre (höchstens {_fmt(cap)}).",
                   f"Term of {_fmt(f.years)} years (at most {_fmt(cap)}).")
    severity: Severity = "medium" if medium is not None and f.years <= medium else "high"
    return _dev(severity, f"Laufzeit {_fmt(f.years)} Jahre, mehr als die zulässigen {_fmt(cap)} Jahre.",
                f"Term of {_fmt(f.years)} years, longer than the {_fmt(cap)} years allowed.")


def _survival(f: SurvivalFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    cap = p.max_years
    if f.perpetual:
        return _dev(p.perpetual, "Vertraulichkeit zeitlich unbegrenzt (nicht nur für Geschäftsgeheimnisse).",
                    "Confidentiality without time limit (not only for trade secrets).")
    if not f.found or f.years is None:
        return _missing(p, "Keine Nachwirkung der Vertraulichkeit vereinbart.",
                        "No survival period for confidentiality is stated.")
    if cap is not None and f.years <= cap:
        extra = (" Geschäftsgeheimnisse bleiben geschützt, solange sie geheim sind." if f.trade_secret_carve_out
                 else "", " Trade secrets stay protected while they are secret." if f.trade_secret_carve_out else "")
        return _ok(f"Nachwirkung {_fmt(f.years)} Jahre (höchstens {_fmt(cap)}).{extra[0]}",
                   f"Survives {_fmt(f.years)} years (at most {_fmt(cap)}).{extra[1]}")
    return _dev(p.severity, f"Nachwirkung {_fmt(f.years)} Jahre, mehr als die zulässigen {_fmt(cap)} Jahre.",
                f"Survives {_fmt(f.years)} years, longer than the {_fmt(cap)} years allowed.")


def law_accepted(law: str, accepted: list[str]) -> bool:
    return law in accepted or ("EU" in accepted and law in EU_MEMBERS)


def _law(f: LawFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found or f.law is None:
        return _missing(p, "Keine Rechtswahl.", "No governing law is chosen.")
    if not law_accepted(f.law, p.accepted):
        return _dev(p.severity, f"Recht: {f.law}; akzeptiert sind {', '.join(p.accepted)}.",
                    f"Governing law: {f.law}; accepted are {', '.join(p.accepted)}.")
    if f.law == p.preferred and f.cisg_excluded is False and p.cisg_not_excluded:
        return _dev(p.cisg_not_excluded, f"Recht: {f.law}, aber das UN-Kaufrecht (CISG) ist nicht ausgeschlossen.",
                    f"Governing law: {f.law}, but the CISG is not excluded.")
    return _ok(f"Recht: {f.law} (akzeptiert).", f"Governing law: {f.law} (accepted).")


def _venue(f: VenueFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found or f.kind is None:
        return _missing(p, "Kein Gerichtsstand und keine Schiedsklausel.", "No venue and no arbitration clause.")
    where = f.place or f.country or "?"
    if f.kind == "courts":
        if f.country in p.court_countries:
            return _ok(f"Gerichtsstand {where} ({f.country}).", f"Courts of {where} ({f.country}).")
        return _dev(p.severity, f"Gerichtsstand {where} ({f.country or '?'}); akzeptiert sind Gerichte in "
                                f"{', '.join(p.court_countries)}.",
                    f"Courts of {where} ({f.country or '?'}); accepted are courts in {', '.join(p.court_countries)}.")
    institution = f.institution or "?"
    if institution in p.arbitration_institutions and f.country in p.arbitration_seat_countries:
        return _ok(f"Schiedsverfahren {institution}, Sitz {where}.", f"{institution} arbitration seated in {where}.")
    institutions, seats = "/".join(p.arbitration_institutions), ", ".join(p.arbitration_seat_countries)
    return _dev(p.severity, f"Schiedsverfahren {institution}, Sitz {where} ({f.country or '?'}); akzeptiert sind "
                            f"{institutions} mit Sitz in {seats}.",
                f"{institution} arbitration seated in {where} ({f.country or '?'}); accepted are "
                f"{institutions} seated in {seats}.")


def _ci(f: CiFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _missing(p, "Keine Definition vertraulicher Informationen.",
                        "No definition of Confidential Information.")
    if f.all_information or f.marking_required is False:
        return _dev(p.severity, "Alle Informationen gelten als vertraulich, auch ohne Kennzeichnung.",
                    "All information is confidential, whether or not it is marked.")
    days = f.oral_confirmation_days
    if days is not None and p.oral_confirmation_days is not None and days > p.oral_confirmation_days:
        return _dev(p.severity, f"Mündliche Informationen: Bestätigung binnen {days} Tagen, mehr als "
                                f"{p.oral_confirmation_days}.",
                    f"Oral information: confirmation within {days} days, more than {p.oral_confirmation_days}.")
    return _ok("Nur gekennzeichnete Informationen sind vertraulich.", "Only marked information is confidential.")


EXCLUSION_NAMES = {"public": ("öffentlich bekannt", "public"), "already_known": ("bereits bekannt", "already known"),
                   "independently_developed": ("unabhängig entwickelt", "independently developed"),
                   "third_party": ("von Dritten rechtmäßig erhalten", "lawfully received from a third party"),
                   "required_by_law": ("gesetzlich offenzulegen", "required by law")}


def _names(keys: list[str], table: dict[str, tuple[str, str]], index: int) -> str:
    return ", ".join(table.get(k, (k, k))[index] for k in keys)


def _exclusions(f: ExclusionFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    missing = [e for e in p.required if e not in f.present]
    if not f.found:
        return "not_found", p.two_or_more_missing, {"de": "Keine Ausnahmen von der Geheimhaltung.",
                                                    "en": "No exceptions from confidentiality."}
    if not missing:
        return _ok("Alle Ausnahmen vorhanden.", "All exceptions are present.")
    severity = p.one_missing if len(missing) == 1 else p.two_or_more_missing
    return _dev(severity, f"Es fehlen {len(missing)} Ausnahmen: {_names(missing, EXCLUSION_NAMES, 0)}.",
                f"{len(missing)} exception(s) missing: {_names(missing, EXCLUSION_NAMES, 1)}.")


RECIPIENT_NAMES = {"employees": ("Mitarbeiter", "employees"), "affiliates": ("verbundene Unternehmen", "affiliates"),
                   "advisers": ("Berater", "advisers"),
                   "suppliers_subcontractors": ("Zulieferer/Unterauftragnehmer", "suppliers/subcontractors")}


def _recipients(f: RecipientFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _missing(p, "Nicht geregelt, an wen weitergegeben werden darf.",
                        "It does not say to whom information may be passed on.")
    missing = [r for r in p.required if r not in f.allowed]
    if not missing:
        return _ok("Weitergabe an alle nötigen Empfänger erlaubt.", "Disclosure to every recipient we need is allowed.")
    severity: Severity = "low" if all(m in p.minor for m in missing) else p.severity
    return _dev(severity, f"Nicht erlaubt: {_names(missing, RECIPIENT_NAMES, 0)}.",
                f"Not allowed: {_names(missing, RECIPIENT_NAMES, 1)}.")


def _return(f: ReturnFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _missing(p, "Keine Regelung zur Rückgabe oder Vernichtung.", "No return or destruction clause.")
    if f.retention_carve_out:
        return _ok("Rückgabe mit Ausnahme für Archivierung und Datensicherung.",
                   "Return with an exception for archiving and backups.")
    return _dev(p.severity, "Rückgabe ohne Ausnahme für gesetzliche Archivierung und automatische Datensicherungen.",
                "Return without an exception for statutory archiving and automatic backups.")


Judge = Callable[[Any, RulePolicy, NdaPolicy], Outcome]


def _forbidden(de: str, en: str, de_absent: str, en_absent: str) -> Judge:
    def judge_rule(f: RuleFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
        return _dev(p.severity, de, en) if f.found else _ok(de_absent, en_absent)
    return judge_rule


def _solicitation(f: SolicitationFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _ok("Kein Abwerbeverbot.", "No non-solicitation clause.")
    too_long = f.months is None or (p.max_months is not None and f.months > p.max_months)
    too_broad = f.scope != p.scope
    if not too_long and not too_broad:
        return _ok(f"Abwerbeverbot {_fmt(f.months)} Monate, nur beteiligte Mitarbeiter.",
                   f"Non-solicitation for {_fmt(f.months)} months, only employees involved.")
    reasons_de = ([f"{_fmt(f.months)} Monate statt höchstens {p.max_months}"] if too_long else []) + (
        ["alle Mitarbeiter statt nur der beteiligten"] if too_broad else [])
    reasons_en = ([f"{_fmt(f.months)} months instead of at most {p.max_months}"] if too_long else []) + (
        ["all employees instead of those involved"] if too_broad else [])
    return _dev(p.severity, "Abwerbeverbot: " + "; ".join(reasons_de) + ".",
                "Non-solicitation: " + "; ".join(reasons_en) + ".")


def _penalty(f: PenaltyFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _ok("Keine Vertragsstrafe.", "No contractual penalty.")
    amount = f" von {f.amount:,.0f} {f.currency or ''}".replace(",", ".").rstrip() if f.amount else ""
    amount_en = f" of {f.currency or ''} {f.amount:,.0f}".replace("  ", " ") if f.amount else ""
    return _dev(p.severity, f"Vertragsstrafe{amount}.", f"Contractual penalty{amount_en}.")


def _ip(f: IpFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _ok("Keine Rechtseinräumung.", "No rights are granted.")
    what_de = [w for w, on in (("Lizenz an vertraulichen Informationen", f.licence),
                               ("Rückmeldungen/Verbesserungen gehören der anderen Partei", f.feedback_ownership)) if on]
    what_en = [w for w, on in (("a licence to Confidential Information", f.licence),
                               ("feedback/improvements belong to the other party", f.feedback_ownership)) if on]
    return _dev(p.severity, "Schutzrechte: " + "; ".join(what_de or ["Rechtseinräumung"]) + ".",
                "Intellectual property: " + "; ".join(what_en or ["rights are granted"]) + ".")


def _assignment(f: AssignmentFacts, p: RulePolicy, _: NdaPolicy) -> Outcome:
    if not f.found:
        return _missing(p, "Keine Regelung zur Übertragung.", "No assignment clause.")
    if f.consent_required is False:
        return _dev(p.severity, "Übertragung ohne Zustimmung an Dritte möglich.",
                    "Assignment to third parties without consent is possible.")
    if not f.affiliate_exception:
        return _dev(p.severity, "Übertragung auch an verbundene Unternehmen nur mit Zustimmung.",
                    "Assignment even to affiliates needs consent.")
    return _ok("Übertragung nur mit Zustimmung, an verbundene Unternehmen frei.",
               "Assignment needs consent, except to affiliates.")


JUDGES: dict[str, Judge] = {
    "mutuality": _mutuality, "term": _term, "survival": _survival, "governing_law": _law, "jurisdiction": _venue,
    "ci_definition": _ci, "exclusions": _exclusions, "permitted_recipients": _recipients,
    "return_destroy": _return,
    "residuals": _forbidden("Residuals-Klausel: im Gedächtnis behaltene Informationen dürfen frei genutzt werden.",
                            "Residuals clause: information kept in memory may be used freely.",
                            "Keine Residuals-Klausel.", "No residuals clause."),
    "non_solicitation": _solicitation,
    "non_compete": _forbidden("Wettbewerbsverbot oder Exklusivität in einer Geheimhaltungsvereinbarung.",
                              "Non-compete or exclusivity in a non-disclosure agreement.",
                              "Kein Wettbewerbsverbot.", "No non-compete."),
    "penalty": _penalty, "ip": _ip,
    "liability": _forbidden("Freistellung über die gesetzliche Haftung hinaus.",
                            "Indemnity beyond statutory liability.", "Keine Freistellung.", "No indemnity."),
    "assignment": _assignment,
}


def verdict_of(findings: list[Finding]) -> Verdict:
    worst = max((SEVERITY_RANK[f.severity] for f in findings if f.severity and f.status != "compliant"), default=0)
    return "escalate" if worst >= SEVERITY_RANK["high"] else "negotiate" if worst == SEVERITY_RANK["medium"] \
        else "accept"


def judge(facts: NdaFacts, *, language: Language, policy: NdaPolicy | None = None) -> Judgement:
    """Every rule's finding, in the NDA's language, and the verdict."""
    policy = policy or get_nda_policy()
    findings = []
    for rule in RULES:
        rule_facts = facts.of(rule)
        rule_policy = policy.rules[rule]
        status, severity, text = JUDGES[rule](rule_facts, rule_policy, policy)
        evidence = rule_facts.evidence[0] if rule_facts.evidence else None
        findings.append(Finding(
            rule=rule, status=status, severity=severity if status != "compliant" else None,
            explanation=text[language], fallback=rule_policy.wording(language) if status != "compliant" else None,
            quote=evidence.quote if evidence else None, page=evidence.page if evidence else None,
            start=evidence.start if evidence else None, end=evidence.end if evidence else None,
            clause=evidence.clause if evidence else None, uncertain=rule_facts.uncertain, source=rule_facts.source))
    return Judgement(verdict=verdict_of(findings), unverified=[f.rule for f in findings if f.uncertain],
                     findings=findings, policy_version=policy.version,
                     language=language)
