"""Is a repair free (in warranty), paid (out of warranty), or for an engineer to judge on site?

The rule, exact to the day (documented in docs/flows.md):

- the warranty starts on the unit's handover date (DEFAULT, domain §2: "在房屋交付后");
- `warranty_until = handover_date + N years`; a 29 February handover ends on 28 February when
  the final year is not a leap year;
- a repair is in warranty while the owner's *local* date (the configured time zone, not UTC)
  is on or before `warranty_until`: the last day counts in full.

When the bot cannot know — no handover date on file, a handover date still in the future, a
category the rules give no period for ("一定期限", domain §2), or a category it does not know —
it says so and asks for an on-site assessment instead of guessing (domain §9: "若遇不确定信息,
应坦诚告知").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class WarrantyStatus(enum.StrEnum):
    IN_WARRANTY = "in_warranty"
    OUT_OF_WARRANTY = "out_of_warranty"
    NEEDS_ASSESSMENT = "needs_assessment"


class AssessmentReason(enum.StrEnum):
    """Why the bot cannot decide; each has an owner-facing text."""

    UNKNOWN_HANDOVER = "unknown_handover"
    NOT_HANDED_OVER = "not_handed_over"
    NO_PERIOD = "no_period"
    UNKNOWN_CATEGORY = "unknown_category"
    #: The structure's period is the design life, and none is entered for the project.
    DESIGN_LIFE_UNSET = "design_life_unset"


@dataclass(frozen=True)
class WarrantyDecision:
    status: WarrantyStatus
    #: The last day of the warranty, when it is known.
    until: date | None = None
    reason: AssessmentReason | None = None


def add_years(start: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def decide_warranty(
    handover: date | None, warranty_years: int | None, today: date, *, known_category: bool = True
) -> WarrantyDecision:
    """`today` must be the local date in the company's time zone; `warranty_years` None means
    the rules give no period for the category."""
    if not known_category:
        return WarrantyDecision(
            WarrantyStatus.NEEDS_ASSESSMENT, None, AssessmentReason.UNKNOWN_CATEGORY
        )
    if handover is None:
        return WarrantyDecision(
            WarrantyStatus.NEEDS_ASSESSMENT, None, AssessmentReason.UNKNOWN_HANDOVER
        )
    if warranty_years is None:
        return WarrantyDecision(WarrantyStatus.NEEDS_ASSESSMENT, None, AssessmentReason.NO_PERIOD)
    if today < handover:
        return WarrantyDecision(
            WarrantyStatus.NEEDS_ASSESSMENT, None, AssessmentReason.NOT_HANDED_OVER
        )
    until = add_years(handover, warranty_years)
    status = WarrantyStatus.IN_WARRANTY if today <= until else WarrantyStatus.OUT_OF_WARRANTY
    return WarrantyDecision(status, until)
