"""Accounts: users, their devices, passwords, sign-in and device tokens.

Nothing is imported here, so that `fieldapp.accounts.models` loads without the services."""
