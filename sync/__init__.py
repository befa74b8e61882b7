"""The sync protocol engine: push (engine), pull, blobs. Plain Python over a SQLAlchemy
Session; the API's handlers in fieldapp/faces/api/sync.py only translate HTTP to these calls."""
