"""Shared test helpers importable as `from helpers import ...` (tests/ is on sys.path)."""
from conftest import intake_body, jpeg_bytes, new_uuid, png_bytes, sha  # noqa: F401
