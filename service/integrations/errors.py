"""Why a webhook delivery was refused before anything was read or written."""

from __future__ import annotations


class WebhookRejected(Exception):
    """The delivery cannot be accepted; nothing was written.

    `code` is stable (it becomes the error body's `code`); `status` is the HTTP answer the
    receiver gives (4xx: the sender must not retry the same bytes).
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_signature(message: str) -> WebhookRejected:
    return WebhookRejected(400, "invalid_signature", message)


def bad_payload(message: str) -> WebhookRejected:
    return WebhookRejected(400, "invalid_payload", message)
