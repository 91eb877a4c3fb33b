"""The NDA policy judge (policies/nda.py): facts in, findings and verdict out, every figure from the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import PolicyFileError
from policies.config import POLICY_DIR
from policies.nda import (
    ExclusionFacts,
    LawFacts,
    NdaFacts,
    PenaltyFacts,
    RecipientFacts,
    RuleFacts,
    SolicitationFacts,
    SurvivalFacts,
    TermFacts,
    VenueFacts,
    get_nda_policy,
    judge,
)

ALL_FIVE = ["public", "already_known", "independently_developed", "third_party", "required_by_law"]


def compliant_facts(**overrides: RuleFacts) -> NdaFacts:
    """An NDA that meets every rule of the policy."""
    from policies.nda import AssignmentFacts, CiFacts, MutualityFacts, ReturnFacts

    base = NdaFacts(
        mutuality=MutualityFacts(found=True, discloser="both"), term=TermFacts(found=True, years=3),
        survival=SurvivalFacts(found=True, years=5), governing_law=LawFacts(found=True, law="DE", cisg_excluded=True),
        jurisdiction=VenueFacts(found=True, kind="courts", place="Bremen", country="DE"),
        ci_definition=CiFacts(found=True, marking_required=True, oral_confirmation_days=30),
        exclusions=ExclusionFacts(found=True, present=ALL_FIVE),
        permitted_recipients=RecipientFacts(found=True, allowed=["employees", "affiliates", "advisers",
                                                                 "suppliers_subcontractors"]),
        return_destroy=ReturnFacts(found=True, retention_carve_out=True),
        assignment=AssignmentFacts(found=True, consent_required=True, affiliate_exception=True))
    return base.model_copy(update=overrides)


def finding(facts: NdaFacts, rule: str, language: str = "en"):
    return next(f for f in judge(facts, language=language).findings if f.rule == rule)  # type: ignore[arg-type]


def test_a_compliant_nda_is_accepted() -> None:
    judgement = judge(compliant_facts(), language="en")
    assert judgement.verdict == "accept" and {f.status for f in judgement.findings} == {"compliant"}
    assert judgement.policy_version == get_nda_policy().version


@pytest.mark.parametrize(("facts", "severity"), [
    (TermFacts(found=True, years=5), None), (TermFacts(found=True, years=7), "medium"),
    (TermFacts(found=True, years=10), "medium"), (TermFacts(found=True, years=11), "high"),
    (TermFacts(found=True, indefinite=True, termination_right=False), "high"),
    (TermFacts(found=True, indefinite=True, termination_right=True), None),
])
def test_term_severity_follows_the_policy(facts: TermFacts, severity: str | None) -> None:
    assert finding(compliant_facts(term=facts), "term").severity == severity


def test_survival_and_trade_secrets() -> None:
    assert finding(compliant_facts(survival=SurvivalFacts(found=True, perpetual=True)), "survival").severity == "high"
    assert finding(compliant_facts(survival=SurvivalFacts(found=True, years=7)), "survival").severity == "medium"
    ok = finding(compliant_facts(survival=SurvivalFacts(found=True, years=5, trade_secret_carve_out=True)), "survival")
    assert ok.status == "compliant" and "trade secrets" in ok.explanation.lower()


@pytest.mark.parametrize(("law", "cisg", "severity"), [
    ("DE", True, None), ("DE", False, "low"), ("CH", None, None), ("AT", None, None), ("FR", None, None),
    ("PL", None, None), ("GB", None, "high"), ("US-NY", None, "high")])
def test_governing_law(law: str, cisg: bool | None, severity: str | None) -> None:
    assert finding(compliant_facts(governing_law=LawFacts(found=True, law=law, cisg_excluded=cisg)),
                   "governing_law").severity == severity


def test_missing_clauses_take_the_if_missing_severity() -> None:
    facts = compliant_facts(governing_law=LawFacts(), jurisdiction=VenueFacts())
    law, venue = finding(facts, "governing_law"), finding(facts, "jurisdiction")
    assert (law.status, law.severity, venue.status, venue.severity) == ("not_found", "medium", "not_found", "low")
    assert judge(facts, language="en").verdict == "negotiate"


def test_venue_courts_and_arbitration() -> None:
    def venue(**kw: object) -> str | None:
        return finding(compliant_facts(jurisdiction=VenueFacts(found=True, **kw)), "jurisdiction").severity  # type: ignore[arg-type]

    assert venue(kind="courts", place="München", country="DE") is None
    assert venue(kind="courts", place="London", country="GB") == "medium"
    assert venue(kind="arbitration", institution="ICC", place="Wien", country="AT") is None
    assert venue(kind="arbitration", institution="LCIA", place="London", country="GB") == "medium"


def test_exclusions_and_recipients() -> None:
    one = compliant_facts(exclusions=ExclusionFacts(found=True, present=ALL_FIVE[:4]))
    two = compliant_facts(exclusions=ExclusionFacts(found=True, present=ALL_FIVE[:3]))
    assert finding(one, "exclusions").severity == "medium" and finding(two, "exclusions").severity == "high"
    assert "required by law" in finding(one, "exclusions").explanation
    no_suppliers = compliant_facts(permitted_recipients=RecipientFacts(found=True, allowed=["employees", "affiliates",
                                                                                            "advisers"]))
    no_advisers = compliant_facts(permitted_recipients=RecipientFacts(
        found=True, allowed=["employees", "affiliates", "suppliers_subcontractors"]))
    assert finding(no_suppliers, "permitted_recipients").severity == "medium"
    assert finding(no_advisers, "permitted_recipients").severity == "low"


def test_forbidden_clauses_are_high_and_verdict_escalates() -> None:
    for rule, facts in (("residuals", RuleFacts(found=True)), ("non_compete", RuleFacts(found=True)),
                        ("penalty", PenaltyFacts(found=True, amount=5000.0, currency="EUR")),
                        ("liability", RuleFacts(found=True))):
        judgement = judge(compliant_facts(**{rule: facts}), language="de")
        assert judgement.verdict == "escalate"
        assert next(f for f in judgement.findings if f.rule == rule).severity == "high"
    assert "5.000 EUR" in finding(compliant_facts(penalty=PenaltyFacts(found=True, amount=5000.0, currency="EUR")),
                                  "penalty", "de").explanation


def test_non_solicitation_limits_come_from_the_policy() -> None:
    limit = get_nda_policy().rules["non_solicitation"].max_months
    assert limit is not None
    within = SolicitationFacts(found=True, months=limit, scope="directly_involved")
    longer = SolicitationFacts(found=True, months=limit + 6, scope="directly_involved")
    broader = SolicitationFacts(found=True, months=limit, scope="all")
    assert finding(compliant_facts(non_solicitation=within), "non_solicitation").status == "compliant"
    assert f"at most {limit}" in finding(compliant_facts(non_solicitation=longer), "non_solicitation").explanation
    assert finding(compliant_facts(non_solicitation=broader), "non_solicitation").severity == "medium"


def test_fallback_wording_is_in_the_nda_language_with_policy_figures() -> None:
    facts = compliant_facts(term=TermFacts(found=True, years=8))
    german, english = finding(facts, "term", "de"), finding(facts, "term", "en")
    years = get_nda_policy().rules["term"].max_years
    assert german.fallback and f"{years:g} Jahren" in german.fallback
    assert english.fallback and f"{years:g} years" in english.fallback


def test_policy_file_changes_change_the_findings(tmp_path: Path) -> None:
    text = (POLICY_DIR / "nda.yaml").read_text(encoding="utf-8").replace("    max_years: 5\n    medium_up_to_years",
                                                                          "    max_years: 8\n    medium_up_to_years")
    (tmp_path / "nda.yaml").write_text(text, encoding="utf-8")
    policy = get_nda_policy.__wrapped__(tmp_path)
    verdict = judge(compliant_facts(term=TermFacts(found=True, years=7)), language="en", policy=policy)
    assert next(f for f in verdict.findings if f.rule == "term").status == "compliant"
    (tmp_path / "nda.yaml").write_text(text.replace("  residuals:", "  residualz:"), encoding="utf-8")
    with pytest.raises(PolicyFileError, match="residuals"):
        get_nda_policy.__wrapped__(tmp_path)
