"""Every API error is `{"error": <stable code>, "message": <human text>, "details": {...}}`,
with the message in the caller's language (fieldapp/messages.py); and the error answers each
operation documents in the OpenAPI."""
from __future__ import annotations

from apispec import BasePlugin

from fieldapp.messages import (  # noqa: F401  (the API's modules import them from here)
    HTTP_CODES,
    MESSAGES,
    domain_error_response,
    error_response,
    http_error_response,
)

# --- the error answers in the OpenAPI -------------------------------------------------------

# What each error status means, for every operation that can answer it (the spec lists the
# statuses each operation can really give; there is no catch-all `default`).
ERROR_DESCRIPTIONS = {
    400: "bad_request: the body is not UTF-8 JSON or is nested more than 64 levels "
         "(details.reason: not_utf8, invalid_json, too_deeply_nested)",
    401: "unauthorized: the bearer token is missing, expired or revoked; device_revoked: "
         "the office (or its own user) cut this device off",
    403: "forbidden: the caller's role may not do this",
    404: "not found (`*_not_found`): no such record, or not the caller's",
    409: "the record's current state refuses this change (the code says which rule)",
    413: "too_large: the upload is larger than the limit",
    415: "json_required: a body sent as something else than application/json",
    422: "validation_error: details.fields names each refused field (unknown fields, wrong "
         "types, text holding NUL or an unpaired UTF-16 surrogate, non-finite numbers, "
         "dates outside 2000-01-01..2099-12-31); or a business rule's own code",
    429: "too_many_attempts: wait (Retry-After) and try again",
}


def errors_doc(extra: dict[int, str | None]):
    """Document error answers an operation gives beyond those read from its shape
    (authentication, role, body, query, path): {status: what the codes mean}; None for
    a status its shape suggests but it never gives."""

    def decorator(view):
        view._error_doc = {**getattr(view, "_error_doc", {}), **extra}
        return view

    return decorator


class ErrorResponsesPlugin(BasePlugin):
    """Adds to each operation the error answers it can give, from what the view is: 401
    behind a token, 403 with roles, 400/415/422 with a JSON body, 422 with query
    arguments, 404 with path parameters, and what `errors_doc` adds."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            statuses = dict(getattr(view, "_error_doc", {}))
            arguments = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
            locations = {argument.get("in") for argument in arguments}
            if getattr(view, "_token_required", False):
                statuses.setdefault(401, ERROR_DESCRIPTIONS[401])
                if getattr(view, "_token_roles", None) is not None:
                    statuses.setdefault(403, ERROR_DESCRIPTIONS[403])
            if "json" in locations:  # read by FieldParser
                for status in (400, 415, 422):
                    statuses.setdefault(status, ERROR_DESCRIPTIONS[status])
            if "query" in locations:
                statuses.setdefault(422, ERROR_DESCRIPTIONS[422])
            if rule is not None and rule.arguments:
                statuses.setdefault(404, ERROR_DESCRIPTIONS[404])
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            for status, description in sorted(statuses.items()):
                if str(status) in documented or description is None:
                    continue
                responses[str(status)] = ({
                    "description": description,
                    "content": {"application/json": {"schema": "Error"}}})
