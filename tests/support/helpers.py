"""Shared test helpers importable as `from helpers import ...` (tests/ is on sys.path)."""
from conftest import intake_body, jpeg_bytes, new_uuid, png_bytes, sha  # noqa: F401
from conftest import (complete_job, completion_mutations, pull_templates, sync_push,  # noqa: F401,E402
                      upload_blob)
