"""Blobs: the content-addressed files (photos, signatures) jobs name by SHA-256.

Nothing is imported here, so that `fieldapp.blobs.models` loads without the services."""
