"""The sync protocol engine: push (engine), pull, blobs, and the registry of mutation types
(each declared beside its domain, `fieldapp/<domain>/mutations.py`). Plain Python over a
SQLAlchemy Session; the API's handlers in fieldapp/faces/api/sync_routes.py only translate
HTTP to these calls."""
