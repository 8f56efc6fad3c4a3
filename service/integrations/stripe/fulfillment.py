"""The success-page path: ask Stripe about the session and commit it if it is paid.

Stripe tells shops to fulfil from both the webhook and the success page, so the two run at
the same moment all the time. Both end in the engine's commit, which applies once per
reservation (guarded by the reservation's revision and status); the loser replays.
"""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model
from schemas.operations import ItemChange, ShortfallOutcome
from schemas.reservation import ReservationStatus
from service.engine import Inventory, commit_paid
from service.integrations.stripe.gateway import StripeGateway


class Fulfillment(Model):
    session_id: str
    payment_status: str | None = Field(description="Stripe's payment_status of the session.")
    fulfilled: bool = Field(description="The reservation is committed (now or before).")
    status: ReservationStatus | None = Field(
        default=None, description="The reservation's status after this call."
    )
    late: bool = False
    committed: list[ItemChange] = Field(default_factory=list)
    shortfall: list[ShortfallOutcome] = Field(default_factory=list)
    replayed: bool = Field(default=False, description="Committed before (webhook or a retry).")
    held_refunds_applied: list[str] = Field(default_factory=list)


class CheckoutSessionUnknown(LookupError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"Stripe knows no checkout session {session_id!r}")
        self.session_id = session_id


async def fulfill_checkout_session(
    inventory: Inventory, gateway: StripeGateway, session_id: str
) -> Fulfillment:
    """Commit the session's reservation when Stripe says it is paid.

    Raises `CheckoutSessionUnknown`, `StripeLookupFailed`, and the engine's
    `ReservationNotFound` (the session reserved nothing).
    """
    session = await gateway.checkout_session(session_id)
    if session is None:
        raise CheckoutSessionUnknown(session_id)
    if not session.paid:
        reservation = await inventory.reservation(session.id)
        return Fulfillment(
            session_id=session.id,
            payment_status=session.payment_status,
            fulfilled=False,
            status=reservation.status if reservation else None,
        )
    result, held = await commit_paid(inventory, session.id, session.payment_ref)
    return Fulfillment(
        session_id=session.id,
        payment_status=session.payment_status,
        fulfilled=True,
        status=result.status,
        late=result.late,
        committed=result.committed,
        shortfall=result.shortfall,
        replayed=result.replayed,
        held_refunds_applied=held.applied,
    )
