"""Notifications: one way to tell someone, and the outbox that delivers it.

Nothing is imported here, so that `fieldapp.notifications.models` loads without the services."""
