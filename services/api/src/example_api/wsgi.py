"""WSGI entry point: ``gunicorn example_api.wsgi:app``."""

from example_api.app import create_app

app = create_app()
