"""Complaints: intake, contacts, escalation and the jobs they spawn (docs/desk.md).

Nothing is imported here, so that `fieldapp.complaints.models` loads without the services."""
