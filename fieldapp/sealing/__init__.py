"""Sign-off: sealing approved jobs and checking the seal chain.

Nothing is imported here, so that `fieldapp.sealing.models` loads without the services."""
