"""Which accounts need action this week: each rule that is not ok weighs by the policy's weight for that rule
(a warning by a share of it), the account's priority is the sum, its light is red only when one reason alone
weighs enough to act on (``priority.yaml``). Without this, nearly every demo account is red for an NPS
response rate or an opportunity count, and the list says nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from policies.config import PriorityPolicy, get_policies
from policies.health import AccountHealth
from policies.results import RuleResult

Light = Literal["act", "watch", "ok"]


@dataclass(frozen=True)
class Priority:
    score: float  # sum of the weighted reasons; higher needs action sooner
    light: Light
    ranked: list[tuple[float, RuleResult]]  # reasons by weight, heaviest first

    @property
    def top(self) -> RuleResult | None:
        return self.ranked[0][1] if self.ranked else None


def weight(result: RuleResult, policy: PriorityPolicy) -> float:
    base = policy.weights.get(result.rule, 1.0)
    return base if result.status == "breach" else base * policy.warn_factor if result.status == "warn" else 0.0


def priority(account: AccountHealth, policy: PriorityPolicy | None = None) -> Priority:
    policy = policy or get_policies().priority
    ranked = sorted(((weight(r, policy), r) for r in account.reasons), key=lambda pair: (-pair[0], pair[1].rule))
    ranked = [(w, r) for w, r in ranked if w > 0]
    score = round(sum(w for w, _ in ranked), 2)
    light: Light = "act" if ranked and ranked[0][0] >= policy.act_from else "watch" if ranked else "ok"
    return Priority(score, light, ranked)


def by_priority(accounts: list[AccountHealth], policy: PriorityPolicy | None = None) -> list[tuple[AccountHealth,
                                                                                                   Priority]]:
    """Accounts with their priority, the one needing action first; ties by account id (stable)."""
    rated = [(a, priority(a, policy)) for a in accounts]
    order = {"act": 0, "watch": 1, "ok": 2}
    # the heaviest single reason first (a credit stop outranks many small misses), then the sum, then the id
    return sorted(rated, key=lambda pair: (order[pair[1].light], -(pair[1].ranked[0][0] if pair[1].ranked else 0),
                                           -pair[1].score, pair[0].account_id))
