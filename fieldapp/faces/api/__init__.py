"""The JSON API under /api/v1 (flask-smorest): thin handlers over fieldapp.services and sync."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_smorest import Api
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from fieldapp.core.errors import DomainError
from fieldapp.extensions import csrf, db
from sync.blobs import BlobError

from . import (
    auth,
    complaints,
    devices,
    docs,
    jobs,
    notifications,
    parts,
    return_visits,
    sync_routes,
)
from .errors import ErrorResponsesPlugin, domain_error_response, error_response, http_error_response
from .parsing import FieldRequest
from .schemas import QueryFlag


class FieldApi(Api):
    """flask-smorest, with the contract's error shape instead of its own (in the answers
    and in the spec's documented error responses)."""

    from .schemas import ErrorSchema as ERROR_SCHEMA  # noqa: N811

    # No catch-all `default` answer: each operation lists the errors it really gives
    # (ErrorResponsesPlugin).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return http_error_response(error)


def init_api(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "fieldapp's public API: auth, jobs, sync and blobs. "
                                "See docs/sync-protocol.md for the sync rules."},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    # Every request body read as JSON (here and in the sign-in limiter) goes through the
    # API's strict parser: bad UTF-8 or deep nesting is a 400, never a RecursionError.
    app.request_class = FieldRequest
    # One per app: the spec belongs to the app it describes.
    api = FieldApi(app, spec_kwargs={"extra_plugins": [ErrorResponsesPlugin(app)]})
    app.extensions["fieldapp.faces.api"] = api
    api.register_field(QueryFlag, "string", None)  # its enum: "true", "false", "1", "0"


    for module in (auth, jobs, sync_routes, complaints, return_visits, devices):
        api.register_blueprint(module.blp)
        # The API authenticates with bearer tokens only, never cookies: no CSRF to forge.
        csrf.exempt(module.blp)

    for blueprint in (parts.blp, parts.takeback_blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)

    api.register_blueprint(notifications.blp)
    csrf.exempt(notifications.blp)
    app.register_blueprint(docs.bp)

    @app.errorhandler(DomainError)
    def on_domain_error(error: DomainError):
        db.session.rollback()  # a refused change stores nothing
        return domain_error_response(error)

    @app.errorhandler(BlobError)
    def on_blob_error(error: BlobError):
        db.session.rollback()
        return error_response(error.code, error.status, error.details)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)  # SQLite's form: "Python int too large"
    def on_data_error(error):
        # A number or text the database cannot hold (e.g. an id beyond INTEGER on
        # PostgreSQL) that no schema bounded: the caller's mistake, not a server error.
        db.session.rollback()

        if request.path.startswith("/api/"):
            return error_response("bad_request", 400, {"reason": "value_out_of_range"})
        return render_template("error.html", error=BadRequest()), 400

    @app.errorhandler(500)
    def on_server_error(error):
        db.session.rollback()

        if request.path.startswith("/api/"):
            return error_response("server_error", 500)
        return render_template("error.html", error=error), 500
