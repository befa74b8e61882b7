"""Entry point: `flask --app app run`, `gunicorn 'app:app'`."""
from fieldapp import create_app

app = create_app()
