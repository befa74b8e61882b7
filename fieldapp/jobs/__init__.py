"""Jobs: intake, assignment, status moves, evidence, checklists and the change counter.

Nothing is imported here, so that `fieldapp.jobs.models` loads without the services."""
