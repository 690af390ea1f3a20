import pytest


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_healthz_reports_database_channel_layer_and_task_queue(tenants, host, client):
    response = client.get("/healthz", HTTP_HOST=host)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "task_queue"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_answers_503_when_a_check_fails(tenants, client, monkeypatch):
    from saas import health

    def broken():
        raise ConnectionError("redis down")

    monkeypatch.setitem(health.CHECKS, "channel_layer", broken)

    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": response.json()["checks"]["channel_layer"]["ms"],
    }


def test_unknown_host_is_404_not_another_tenant(tenants, client):
    assert client.get("/", HTTP_HOST="nobody.localhost").status_code == 404
