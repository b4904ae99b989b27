"""/healthz tells a load balancer whether the database and Redis answer."""

from shared.app import create_app
from tests.conftest import make_config


def test_health_is_ok_when_database_and_redis_answer(client, redis_url):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_is_degraded_with_503_when_redis_is_down(database_url):
    config = make_config(database_url)
    config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app = create_app(config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ")
