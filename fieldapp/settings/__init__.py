"""The desk's settings: SLA limits, working days and hours, holidays.

Nothing is imported here, so that `fieldapp.settings.models` loads without the services."""
