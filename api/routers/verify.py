"""Check what a text claims about accounts, sentence by sentence, against their facts (``kam verify``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agents.sources import check_account_text
from api.deps import AsOfDep, FinancePrincipalDep, SessionDep, SettingsDep
from core import access

router = APIRouter(prefix="/verify", tags=["verify"])
AccountId = Annotated[str, StringConstraints(pattern=r"^A-\d{5}$")]
MAX_TEXT_CHARS = 8_000


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_ids: list[AccountId] = Field(min_length=1, max_length=5, description="The accounts the text is about")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS,
                      description="With [n] markers each sentence is checked against the source it cites "
                                  "(numbered as `kam verify --sources` lists them); without, against what it names")
    language: Literal["de", "en"] | None = Field(None, description="default: read from the text")


class SentenceOut(BaseModel):
    text: str
    accepted: bool
    reasons: list[str]


class VerifyOut(BaseModel):
    accepted: bool
    sentences: list[SentenceOut]


@router.post("", response_model=VerifyOut)
def verify(body: VerifyIn, session: SessionDep, settings: SettingsDep, principal: FinancePrincipalDep,
           as_of: AsOfDep) -> VerifyOut:
    """Each sentence accepted, or rejected with its reasons (figures, comparisons, trends, dates, causes,
    names). For the roles that may read the accounts' KPIs and finance data; another KAM's account answers
    404 like a missing one."""
    access.require(principal, "rules")
    result = check_account_text(session, settings, principal, body.account_ids, as_of, body.text, body.language)
    return VerifyOut(accepted=result.report.accepted,
                     sentences=[SentenceOut(**s.as_dict()) for s in result.report.sentences])
