"""`stockRefunds`: the refunds of one Stripe payment, as records keyed by refund id, and the
stock they moved (service-owned; one document per payment, so every refund event of a
payment is decided against all the others in one guarded transaction).

Each refund record follows Stripe's status machine: `pending` -> `requires_action` ->
`succeeded`, and `failed` or `canceled` at any point (a card refund may even fail after it
succeeded). Events arrive in any order, so a record's status only ever moves forward
(`STATUS_RANK`): a late `refund.created` never undoes a `refund.failed`.

Stock follows the money: what the records say is going back to the customer (pending,
requires_action, succeeded) is restored, and what failed or was canceled is not, so a
restore is reversed when its refund fails. The document stores what each refund restored
(`applied`, per reservation item) so that every event moves stock by the difference
between what the merged facts call for and what is applied: any order and any number of
deliveries end in the same stock.

Until the payment is recorded (a refund before its checkout's payment event) the document
is `held`; it waits until `heldUntil`, then counts as `no_matching_payment` (a payment
stocksync never saw). With a Stripe key, a payment Stripe says has no Checkout Session is
`foreign` at once. Both still settle should the payment be recorded after all.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from schemas.base import Model, SanityDocument, Timestamp
from schemas.operations import ItemChange, LineRequest

REFUNDS_TYPE: Final = "stockRefunds"

RefundStatus = Literal["pending", "requires_action", "succeeded", "failed", "canceled"]
REFUND_STATUSES: tuple[RefundStatus, ...] = (
    "pending",
    "requires_action",
    "succeeded",
    "failed",
    "canceled",
)
#: Later statuses outrank earlier ones; failed and canceled are final.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "requires_action": 1,
    "succeeded": 2,
    "failed": 3,
    "canceled": 3,
}
#: Statuses under which the money is (being) returned to the customer.
GOING_BACK: frozenset[str] = frozenset({"pending", "requires_action", "succeeded"})
#: Statuses under which the refund will never return money.
ENDED_UNPAID: frozenset[str] = frozenset({"failed", "canceled"})

#: In the id of a partial refund known only from its charge (`<charge>:partial:<amount>`):
#: API versions before 2024-10-28 send no `refund.*` event for card refunds.
PARTIAL_MARK = ":partial:"

RefundsState = Literal["held", "settled", "no_matching_payment", "foreign"]
#: States in which the document waits for (or gave up on) its payment.
UNMATCHED: frozenset[str] = frozenset({"held", "no_matching_payment", "foreign"})


def later_status(old: str | None, new: str | None) -> str | None:
    """The status a record has after hearing `new` when it had `old`."""
    if new is None:
        return old
    if old is None:
        return new
    return new if STATUS_RANK.get(new, -1) > STATUS_RANK.get(old, -1) else old


class AppliedUnits(Model):
    """Units of one reservation item a refund restored (and still stands by)."""

    key: str = Field(alias="_key", description="The reservation item's `_key`.")
    quantity: int = Field(ge=0)


class RefundRecord(Model):
    """One Stripe refund (or, `status` None, a charge Stripe reported fully refunded without
    naming the refund: `<charge>:full`)."""

    key: str = Field(alias="_key")
    refund_id: str
    status: RefundStatus | None = None
    amount: int | None = None
    #: The lines its metadata names (`stocksync_lines`); None: it names none.
    lines: list[LineRequest] | None = None
    #: Why its `stocksync_lines` could not be used (then a person restocks).
    lines_problem: str | None = None
    #: Stripe's `created` (Unix seconds), to order refunds of one payment.
    created: int | None = None
    applied: list[AppliedUnits] = Field(default_factory=list)
    #: A partial refund naming no lines: its units are restocked by hand (staff `return`).
    manual: bool = False
    first_seen_at: Timestamp
    updated_at: Timestamp

    @property
    def applied_total(self) -> int:
        return sum(units.quantity for units in self.applied)


class StockRefunds(SanityDocument):
    type: Literal["stockRefunds"] = Field(default=REFUNDS_TYPE, alias="_type")
    #: The payment intent (or, without one, the charge) the refunds are of.
    payment_key: str
    payment_intent_id: str | None = None
    charge_id: str | None = None
    session_id: str | None = Field(default=None, description="The checkout session, once known.")
    charge_amount: int | None = None
    #: Stripe reported the charge fully refunded (`charge.refunded` with `refunded: true`).
    fully_refunded: bool = False
    state: RefundsState = "held"
    held_until: Timestamp | None = None
    resolved_at: Timestamp | None = None
    refunds: list[RefundRecord] = Field(default_factory=list)
    created_at: Timestamp
    updated_at: Timestamp

    def record(self, refund_id: str) -> RefundRecord | None:
        return next((r for r in self.refunds if r.refund_id == refund_id), None)


class RefundFact(Model):
    """What one event says about one refund."""

    refund_id: str
    status: RefundStatus | None = None
    amount: int | None = None
    lines: list[LineRequest] | None = None
    lines_problem: str | None = None
    created: int | None = None


class RefundFacts(Model):
    """What one Stripe event says about the refunds of one payment."""

    payment_intent_id: str | None = None
    charge_id: str | None = None
    session_id: str | None = None
    charge_amount: int | None = None
    fully_refunded: bool = False
    refunds: list[RefundFact] = Field(default_factory=list)
    #: Stripe says this payment belongs to no Checkout Session.
    foreign: bool = False

    @property
    def payment_key(self) -> str | None:
        return self.payment_intent_id or self.charge_id


class RefundsResult(Model):
    """What settling one payment's refunds did."""

    payment_key: str
    session_id: str | None = None
    state: RefundsState
    #: Units put back in stock by this call (refunds that are, or became, effective).
    restored: list[ItemChange] = Field(default_factory=list)
    #: Units taken out again by this call (refunds that failed or were canceled).
    reversed: list[ItemChange] = Field(default_factory=list)
    #: Refunds newly left to a manual restock (partial, naming no usable lines).
    manual: list[str] = Field(default_factory=list)
    #: Line-less refunds that may still turn out to be the whole charge (its amount is not
    #: known yet: `charge.refunded` tells).
    waiting: list[str] = Field(default_factory=list)
    #: Nothing changed: every fact was known already.
    replayed: bool = False
