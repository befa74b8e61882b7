"""JSON that every strict parser reads: the app never writes NaN or Infinity.

Python's `json` writes them by default, and a phone's `fetch().json()` (or any strict parser)
then fails on the whole answer. Refusing them where JSON is made turns a value that slipped
past validation into a loud error in tests instead of a page no phone can read."""
from __future__ import annotations

import json
from functools import partial

from flask.json.provider import DefaultJSONProvider

# For SQLAlchemy's JSON columns (`json_serializer`): nothing unreadable is stored either.
dumps = partial(json.dumps, allow_nan=False)


class StrictJSONProvider(DefaultJSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def init_app(app) -> None:
    """Before the database is set up: the engine options are read when it is."""
    app.json = StrictJSONProvider(app)
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("json_serializer", dumps)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

