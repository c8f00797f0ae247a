import pytest
from example_common import jobs

from example_api.app import create_app


def test_health_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_503_when_database_unreachable():
    app = create_app(
        {"DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none", "DB_CONNECT_TIMEOUT": 1}
    )
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


def test_create_app_requires_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app()


def test_post_job_returns_201_and_id(client, db):
    response = client.post("/jobs", json={"kind": "wordcount", "payload": {"text": "a b c"}})
    assert response.status_code == 201
    job_id = response.get_json()["id"]
    assert isinstance(job_id, int)
    assert response.headers["Location"] == f"/jobs/{job_id}"
    job = jobs.get(db, job_id)
    assert job.kind == "wordcount" and job.payload == {"text": "a b c"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "content_type": "application/json"},
        {"data": "kind=wordcount"},
        {"json": ["wordcount"]},
        {"json": {"payload": {"text": "x"}}},
        {"json": {"kind": "nope", "payload": {}}},
        {"json": {"kind": "wordcount", "payload": "text"}},
    ],
)
def test_post_job_rejects_bad_input(client, db, kwargs):
    response = client.post("/jobs", **kwargs)
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def test_get_job_pending_then_done(client, db):
    job_id = client.post("/jobs", json={"kind": "reverse", "payload": {"text": "abc"}}).get_json()[
        "id"
    ]
    body = client.get(f"/jobs/{job_id}").get_json()
    assert body["status"] == "pending"
    assert body["result"] is None

    claimed = jobs.claim_next(db)
    jobs.complete(db, claimed.id, {"text": "cba"})
    body = client.get(f"/jobs/{job_id}").get_json()
    assert body["status"] == "done"
    assert body["result"] == {"text": "cba"}
    assert body["finished_at"] is not None


def test_get_job_failed(client, db):
    job_id = jobs.enqueue(db, "wordcount", {"text": 1})
    jobs.fail(db, job_id, "InvalidPayload: bad")
    body = client.get(f"/jobs/{job_id}").get_json()
    assert body["status"] == "failed"
    assert body["error"] == "InvalidPayload: bad"


def test_get_missing_job_404(client):
    response = client.get("/jobs/999")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no job with id 999"}


def test_unknown_route_is_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_cors_headers(client):
    response = client.options("/jobs")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
