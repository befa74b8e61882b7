"""Errors a user can cause, as data: a stable code, an HTTP status and the facts behind it.
The API turns them into `{"error", "message", "details"}`; sync turns them into `rejected`."""
from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, code: str, details: dict | None = None, status: int | None = None,
                 message: str | None = None):
        super().__init__(code)
        self.code = code
        self.details = details or {}
        if status is not None:
            self.status = status
        self.message = message

    def __repr__(self) -> str:  # pragma: no cover
        return f"DomainError({self.code!r}, {self.details!r})"


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str = "job"):
        super().__init__(f"{what}_not_found", {})


class Forbidden(DomainError):
    status = 403

    def __init__(self, code: str = "forbidden", details: dict | None = None):
        super().__init__(code, details)


class Conflict(DomainError):
    status = 409
