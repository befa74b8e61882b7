"""Parts requests and take-backs (docs/parts.md).

Nothing is imported here, so that `fieldapp.parts.models` loads without the services."""
