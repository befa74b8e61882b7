"""Helpers the test areas share, one module per concern: `helpers` (the API client, request
bodies, images, completing a job through sync), `database` (SQLite templates, PostgreSQL per
worker), `synckit` (a simulated phone), `partskit`, `deskkit`, `review_kit`, `visitkit`,
`notify_kit`, `web_kit` (signing in through /login) and `browser_kit`. Fixtures live in the
conftest.py files, not here."""
