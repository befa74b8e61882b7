"""The rules of the business in plain Python: no Flask, no database."""
