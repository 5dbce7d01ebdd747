"""The platform around the resources: bootstrap, authentication modes, OpenAPI schema and docs, 404s, /health."""

import base64
import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import AccessToken, Account, Permission
from tests.factories import AccessTokenFactory

# --- bootstrap -------------------------------------------------------------------------------------------------------


def bootstrap() -> list[str]:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue().strip().splitlines()


def test_bootstrap_prints_a_super_admin_token_holding_every_permission_on_the_last_line(db):
    token_value = bootstrap()[-1]
    token = AccessToken.objects.get(token=token_value)
    assert token_value.strip() == token_value and " " not in token_value
    assert token.account.is_super_admin
    assert set(token.permissions) == set(Permission.values)


def test_bootstrap_is_idempotent(db):
    first, second = bootstrap()[-1], bootstrap()[-1]
    assert first == second
    assert [account.is_super_admin for account in Account.objects.all()] == [True]
    assert AccessToken.objects.count() == 1


def test_bootstrap_token_works_against_the_api(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bootstrap()[-1]}")
    assert client.get("/api/accounts").status_code == 200
    assert client.get("/api/contacts").status_code == 200


# --- authentication --------------------------------------------------------------------------------------------------


def test_basic_auth_with_the_token_as_user_name_authenticates(account):
    token = AccessTokenFactory(account=account)
    client = APIClient()
    credentials = base64.b64encode(f"{token.token}:".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert client.get("/api/account").json()["id"] == account.pk


def test_access_token_query_parameter_authenticates(account):
    token = AccessTokenFactory(account=account)
    response = APIClient().get(f"/api/account?access_token={token.token}")
    assert response.status_code == 200
    assert response.json()["id"] == account.pk


def test_unknown_scheme_is_unauthorized(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Digest abc")
    response = client.get("/api/account")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_malformed_basic_credentials_are_unauthorized(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic %%%not-base64")
    assert client.get("/api/account").status_code == 401


def test_single_tenant_basic_credentials_act_as_the_super_admin(db, settings):
    settings.HTTP_BASIC_AUTH_USER = "admin"
    settings.HTTP_BASIC_AUTH_PASSWORD = "s3cret"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"admin:s3cret").decode())
    response = client.get("/api/account")
    assert response.status_code == 200
    assert response.json()["permissions"] == ["super_admin"]
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"admin:wrong").decode())
    assert client.get("/api/account").status_code == 401


# --- OpenAPI schema and docs ---------------------------------------------------------------------------------------


def test_schema_is_openapi_yaml_without_credentials(db):
    response = APIClient().get("/api/schema")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/account", "/api/accounts", "/api/access_tokens", "/api/users", "/api/contacts"):
        assert path in schema["paths"]
    assert schema["components"]["securitySchemes"]["accessToken"]["scheme"] == "bearer"


def test_schema_is_valid_json_on_request(db):
    response = APIClient().get("/api/schema?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/api/users/{id}" in schema["paths"]
    assert "/api/users/{id}/user_events" in schema["paths"]


def test_docs_page_renders_without_credentials(db):
    response = APIClient().get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema" in response.content


# --- unknown URLs -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/nope", "/api/contacts/not-a-number", "/api/accounts/1/nope"])
def test_unknown_url_is_a_json_not_found(client_for, path):
    response = client_for.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_unsupported_method_is_a_json_error(client_for):
    response = client_for.put("/api/contacts", {}, format="json")
    assert response.status_code == 405
    assert "errors" in response.json()


# --- /health -------------------------------------------------------------------------------------------------------


def test_health_is_ok_when_database_and_broker_answer(db):
    response = APIClient().get("/health/ready")  # /health needs workers and a scheduler too: tests/ops/test_health.py
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}, "migrations": {"ok": True}},
    }


@pytest.fixture
def unreachable_broker():
    from scfm.celery import app

    keys = ("broker_url", "broker_write_url", "broker_transport_options", "broker_transport")
    saved = {key: app.conf.get(key) for key in keys}  # raw values: broker_write_url stays None (follows broker_url)
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app.conf.broker_transport_options, app.conf.broker_transport = {}, None  # laptop mode names its transport
    yield
    for key, value in saved.items():
        app.conf[key] = value


def test_health_is_unavailable_when_broker_is_unreachable(db, unreachable_broker):
    response = APIClient().get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
