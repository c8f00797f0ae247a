"""Flask application: health check and a job API on top of example_common.jobs."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from example_common import jobs
from example_common.db import connect
from example_common.process import KINDS
from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

MAX_PAYLOAD_BYTES = 64 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_PAYLOAD_BYTES
    app.config["DATABASE_URL"] = os.environ.get("DATABASE_URL")
    app.config["DB_CONNECT_TIMEOUT"] = 3
    app.config["CORS_ORIGIN"] = os.environ.get("CORS_ORIGIN", "*")
    app.config.update(config or {})
    if not app.config["DATABASE_URL"]:
        raise RuntimeError("DATABASE_URL is not set")

    def db() -> psycopg.Connection:
        if "db" not in g:
            g.db = connect(
                app.config["DATABASE_URL"], connect_timeout=app.config["DB_CONNECT_TIMEOUT"]
            )
        return g.db

    @app.teardown_appcontext
    def close_db(_exc: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=exc.description), exc.code

    @app.get("/health")
    def health():
        try:
            db().execute("SELECT 1").fetchone()
        except psycopg.Error:
            app.logger.warning("health check: database unreachable", exc_info=True)
            return jsonify(status="unavailable"), 503
        return jsonify(status="ok")

    @app.post("/jobs")
    def create_job():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="expected a JSON object body"), 400
        kind = body.get("kind")
        payload = body.get("payload", {})
        if kind not in KINDS:
            return jsonify(error=f"kind must be one of: {', '.join(KINDS)}"), 400
        if not isinstance(payload, dict):
            return jsonify(error="payload must be a JSON object"), 400
        job_id = jobs.enqueue(db(), kind, payload)
        return jsonify(id=job_id), 201, {"Location": f"/jobs/{job_id}"}

    @app.get("/jobs/<int:job_id>")
    def get_job(job_id: int):
        job = jobs.get(db(), job_id)
        if job is None:
            return jsonify(error=f"no job with id {job_id}"), 404
        return jsonify(job.to_dict())

    @app.after_request
    def cors(response):
        # The static frontend is served from another origin.
        response.headers["Access-Control-Allow-Origin"] = app.config["CORS_ORIGIN"]
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    return app
