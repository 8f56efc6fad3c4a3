"""What handling one webhook delivery did, as the receiver reports it back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """`action` is a stable word (committed, released, refund_held, ignored, ...);
    `message` says it for a person reading Stripe's delivery log."""

    action: str
    message: str
    session_id: str | None = None
    #: Further effects of the same delivery (e.g. each refund a charge event lists).
    more: list[Outcome] = field(default_factory=list)

    def actions(self) -> list[str]:
        return [self.action, *(a for other in self.more for a in other.actions())]
