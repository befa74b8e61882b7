"""Return visits (回访) and the customer survey.

Nothing is imported here, so that `fieldapp.visits.models` loads without the services."""
