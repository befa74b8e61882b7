"""The office desk: board, search and KPI read models over the domains (docs/desk.md)."""
