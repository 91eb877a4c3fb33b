"""Demo generator: deterministic, realistic, and the planted situations are there."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.crm import demo
from core.db import models
from core.db.session import get_engine
from tests.conftest import AS_OF


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.csv")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    demo.generate(tmp_path / "a", accounts=5, seed=3, as_of=AS_OF)
    demo.generate(tmp_path / "b", accounts=5, seed=3, as_of=AS_OF)
    demo.generate(tmp_path / "c", accounts=5, seed=4, as_of=AS_OF)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_an_account_does_not_depend_on_how_many_are_generated(tmp_path: Path) -> None:
    demo.generate(tmp_path / "small", accounts=3, seed=3, as_of=AS_OF)
    demo.generate(tmp_path / "large", accounts=9, seed=3, as_of=AS_OF)
    small = (tmp_path / "small" / "interactions.csv").read_text(encoding="utf-8").splitlines()
    large = (tmp_path / "large" / "interactions.csv").read_text(encoding="utf-8").splitlines()
    assert large[: len(small)] == small


def test_two_years_of_history_in_both_languages(demo_db: str) -> None:
    with Session(get_engine(demo_db)) as session:
        first, last = session.execute(select(func.min(models.Interaction.interaction_date),
                                             func.max(models.Interaction.interaction_date))).one()
        languages = set(session.execute(select(models.Interaction.language).distinct()).scalars())
    assert (last - first).days > 600
    assert last <= AS_OF
    assert languages == {"de", "en"}


def test_planted_situations(demo_db: str) -> None:
    with Session(get_engine(demo_db)) as session:
        planned, called = session.execute(
            select(func.sum(models.CallOffPlan.planned_qty),
                   select(func.sum(models.CallOff.qty)).where(models.CallOff.account_id == "A-00001")
                   .scalar_subquery())
            .where(models.CallOffPlan.account_id == "A-00001")).one()
        assert abs(called / planned - 0.62) < 0.01

        deliveries = session.execute(select(models.Delivery).where(models.Delivery.account_id == "A-00002",
                                                                  models.Delivery.actual_date.is_not(None))).scalars().all()
        on_time = sum(d.actual_date <= d.promised_date + timedelta(days=1) and d.actual_qty >= d.promised_qty
                      for d in deliveries)
        assert 0.92 <= on_time / len(deliveries) <= 0.94

        account = session.get(models.Account, "A-00003")
        paid = select(func.coalesce(func.sum(models.Payment.amount), 0)).where(
            models.Payment.invoice_id == models.Invoice.id).scalar_subquery()
        open_receivables = session.execute(select(func.sum(models.Invoice.amount - paid)).where(
            models.Invoice.account_id == "A-00003")).scalar_one()
        assert open_receivables > min(account.kam_credit_limit, account.insured_limit)

        dunned = session.execute(select(models.Invoice).where(models.Invoice.account_id == "A-00004",
                                                             models.Invoice.dunning_level == 2)).scalars().all()
        assert len(dunned) == 1 and dunned[0].due_date == AS_OF - timedelta(days=40)

        escalation = session.execute(select(models.Escalation).where(models.Escalation.account_id == "A-00005")
                                     ).scalar_one()
        assert escalation.closed_on is None and (AS_OF - escalation.opened_on).days == 20

        nda = session.execute(select(models.Contract).where(models.Contract.account_id == "A-00006",
                                                           models.Contract.contract_type == "nda")).scalar_one()
        assert nda.status == "pending"

        upcoming = session.execute(select(models.Meeting.account_id).where(
            models.Meeting.planned_date > AS_OF, models.Meeting.planned_date <= AS_OF + timedelta(days=7))
        ).scalars().all()
        assert len(set(upcoming)) >= 3


def test_notes_read_like_kam_notes(demo_db: str) -> None:
    with Session(get_engine(demo_db)) as session:
        notes = session.execute(select(models.Interaction.note).where(models.Interaction.account_id == "A-00002")
                                ).scalars().all()
    assert any("Lieferverzug" in n or "Late delivery" in n for n in notes)
    assert all(len(n) > 60 and "{" not in n for n in notes)
