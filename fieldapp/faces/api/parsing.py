"""How the API reads what a client sends, before any schema sees it: one JSON body parser
(strict UTF-8, bounded nesting) behind both `request.get_json()` and the flask-smorest
arguments, and a blueprint whose arguments use it (and whose `endpoint` declares an
operation whole). Whatever a client sends, a malformed body is a 4xx JSON error
(`bad_request` with a reason, or `json_required`), never a 500."""
from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from flask import Request
from webargs.core import is_json
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from .auth_tokens import token_required
from .errors import errors_doc

# Deeper than anything the phone or the desk sends (a mutation's args are 2-3 levels): a
# body nested more deeply is refused before any code walks it (Python's own parser raises
# RecursionError from about 1000 levels, and other recursive code gives up sooner).
MAX_JSON_DEPTH = 64


class BodyError(ValueError):
    """A body that is not JSON this API reads; `reason` goes into the error's details."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_json_body(data: bytes | str) -> Any:
    """The JSON value of a request body: UTF-8 only (RFC 8259), nested at most
    MAX_JSON_DEPTH levels. Raises BodyError (a ValueError) for anything else."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError("not_utf8") from None
    try:
        value = flask.json.loads(data)
    except RecursionError:
        raise BodyError("too_deeply_nested") from None
    except ValueError:
        raise BodyError("invalid_json") from None
    if _nested_deeper_than(value, MAX_JSON_DEPTH):
        raise BodyError("too_deeply_nested")
    return value


def _nested_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:  # iterative: the point is not to recurse on a hostile value
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def bad_body(reason: str) -> BadRequest:
    error = BadRequest()
    error.data = {"details": {"reason": reason}}
    return error


class _BodyJson:
    """What `request.get_json()` parses with: parse_json_body, whose BodyError is the
    ValueError werkzeug turns into a 400 (or None with silent=True)."""

    loads = staticmethod(parse_json_body)
    dumps = staticmethod(flask.json.dumps)


class FieldRequest(Request):
    @property
    def json_module(self):
        return _BodyJson

    @json_module.setter
    def json_module(self, provider):
        pass  # Flask hands each request app.json; bodies are read by parse_json_body

    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, BodyError):
            raise bad_body(e.reason)
        return super().on_json_loading_failed(e)


class FieldParser(FlaskParser):
    """webargs' Flask parser with parse_json_body, a body that is not JSON refused
    (415 json_required) instead of read as no body at all, and unknown query parameters
    refused like unknown body fields (422 naming them: `?statuss=` is a typo, not a
    filter to ignore)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": None, "querystring": None}  # the schema's: raise

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json(req.mimetype):
            if req.content_length:
                error = UnsupportedMediaType()
                error.data = {"code": "json_required",
                              "details": {"content_type": req.mimetype or None}}
                raise error
            return super()._raw_load_json(req)  # no body: missing, the schema decides
        data = req.get_data(cache=True)
        if not data:
            return super()._raw_load_json(req)
        try:
            return parse_json_body(data)
        except BodyError as error:
            raise bad_body(error.reason) from None


class ApiBlueprint(flask_smorest.Blueprint):
    """Every API blueprint: its @arguments read bodies with FieldParser, and `endpoint`
    declares an operation in one place."""

    ARGUMENTS_PARSER = FieldParser()

    def endpoint(self, method: str | list[str], rule: str, *, roles=None, query=None,
                 body=None, answers: tuple = (200,), errors: dict | None = None,
                 query_options: dict | None = None, parameters: list | None = None,
                 **response_options):
        """One API operation, the one way: its route (one method or a list); the errors it
        gives beyond those its shape shows (`errors_doc`); a device token, and one of
        `roles` unless None (any signed-in user); its query-string or JSON-body schema; its
        answer (status, then schema). The same stack as writing each decorator by hand, in
        the same order; `blp.doc` and `blp.alt_response` go below it."""

        def declare(view):
            view = self.response(*answers, **response_options)(view)
            if body is not None:
                view = self.arguments(body)(view)
            if query is not None:
                view = self.arguments(query, location="query", **(query_options or {}))(view)
            view = token_required(roles)(view)
            if errors:
                view = errors_doc(errors)(view)
            methods = [method] if isinstance(method, str) else list(method)
            route_options = {} if parameters is None else {"parameters": parameters}
            return self.route(rule, methods=methods, **route_options)(view)

        return declare
