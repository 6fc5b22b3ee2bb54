"""The errors a request can end in, each knowing its HTTP status and RFC 9457 problem type."""

from __future__ import annotations

from typing import ClassVar, Literal

from adapters.base import ErrorReason
from gateway.types import Problem

__all__ = [
    "PROBLEM_TYPE_BASE",
    "AuthenticationError",
    "BodyTooLargeError",
    "GatewayError",
    "HeadersTooLargeError",
    "NoRoomError",
    "PayloadError",
    "RecordTooLargeError",
    "RequestTimeoutError",
    "TooManyConnectionsError",
    "UnknownSourceError",
]

PROBLEM_TYPE_BASE = "urn:booking-gateway:problem:"


class GatewayError(Exception):
    """Base of every error a sender can cause: rendered as ``application/problem+json``."""

    status_code: ClassVar[int] = 400
    problem: ClassVar[Problem] = "bad-request"
    title: ClassVar[str] = "Bad request"
    delivery_id: str | None = None

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    @property
    def problem_type(self) -> str:
        return PROBLEM_TYPE_BASE + self.problem

    def extensions(self) -> dict[str, object]:
        """Extra members of the problem document."""
        return {}


class UnknownSourceError(GatewayError):
    status_code = 404
    problem = "unknown-source"
    title = "No such webhook source"


class AuthenticationError(GatewayError):
    status_code = 401
    problem = "unauthenticated"
    title = "Missing or invalid credentials"


class BodyTooLargeError(GatewayError):
    status_code = 413
    problem = "body-too-large"
    title = "Request body too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds the limit of {limit} bytes")
        self.limit = limit

    def extensions(self) -> dict[str, object]:
        return {"max_body_bytes": self.limit}


class RecordTooLargeError(GatewayError):
    """A record of the request (canonical, raw or dead-letter) is over ``kafka.max_record_bytes``: the broker
    would refuse it for good, so nothing of the request is published or spooled."""

    status_code = 413
    problem = "record-too-large"
    title = "Request too large for the broker"

    def __init__(self, detail: str, *, topic: str, size: int, limit: int) -> None:
        super().__init__(detail)
        self.topic = topic
        self.size = size
        self.limit = limit

    def extensions(self) -> dict[str, object]:
        return {"max_record_bytes": self.limit, "record_bytes": self.size, "topic": self.topic}


class PayloadError(GatewayError):
    """An authenticated body that cannot be parsed, repaired or mapped (kept on the dead-letter topic)."""

    status_code = 422
    problem = "unprocessable-payload"
    title = "Payload cannot be processed"

    def __init__(self, reason: ErrorReason, detail: str, *, delivery_id: str, position: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.delivery_id = delivery_id
        self.position = position

    def extensions(self) -> dict[str, object]:
        found: dict[str, object] = {"reason": self.reason, "delivery_id": self.delivery_id}
        if self.position is not None:
            found["position"] = self.position
        return found


class InProgressError(GatewayError):
    """Another copy of this delivery is still being published after the wait: retry after ``Retry-After``."""

    status_code = 503
    problem = "delivery-in-progress"
    title = "Another copy of this delivery is being published"

    def __init__(self, detail: str, *, delivery_id: str, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})
        self.delivery_id = delivery_id


class NoRoomError(GatewayError):
    """The gateway cannot keep the request durably now (its spool is full): retry after ``Retry-After``."""

    status_code = 503
    problem = "spool-full"
    title = "Gateway cannot store more events now"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class HeadersTooLargeError(GatewayError):
    """The request line and headers pass ``server.max_header_bytes``, or the headers ``server.max_header_count``."""

    status_code = 431
    problem = "headers-too-large"
    title = "Request header fields too large"

    def __init__(self, limit: Literal["count", "bytes"], value: int) -> None:
        if limit == "count":
            super().__init__(f"the request has more than {value} headers")
        else:
            super().__init__(f"the request line and headers exceed {value} bytes")
        self.setting = f"max_header_{limit}"
        self.limit = value

    def extensions(self) -> dict[str, object]:
        return {self.setting: self.limit}


class RequestTimeoutError(GatewayError):
    """The request's headers or body did not arrive in time: answered, then the connection is closed."""

    status_code = 408
    problem = "request-timeout"
    title = "Request not received in time"

    def __init__(self, part: Literal["headers", "body"], seconds: float) -> None:
        super().__init__(f"the request {part} did not arrive within {seconds:g} s", headers={"Connection": "close"})
        self.setting = f"{'header' if part == 'headers' else 'body'}_timeout_s"
        self.seconds = seconds

    def extensions(self) -> dict[str, object]:
        return {self.setting: self.seconds}


class TooManyConnectionsError(GatewayError):
    """The worker holds ``server.max_connections`` connections: a new one is answered 503 and closed."""

    status_code = 503
    problem = "too-many-connections"
    title = "Too many connections"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the gateway holds its limit of {limit} connections; retry later",
                         headers={"Retry-After": "1"})
        self.limit = limit

    def extensions(self) -> dict[str, object]:
        return {"max_connections": self.limit}
