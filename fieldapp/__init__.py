"""fieldapp: field service for after-sales teams that deliver, install and repair furniture.

`create_app` is imported lazily so that the plain-Python core (`fieldapp.core`), the models
and `sync/` can be used without importing Flask.
"""


def create_app(config: dict | None = None):
    from fieldapp.factory import create_app as _create_app  # why: no Flask on import

    return _create_app(config)
