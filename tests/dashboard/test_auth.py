"""Sign-in and sign-out of the dashboard (session, email + password), and that the API is left as it was."""

from django.test import Client

from tests.dashboard.conftest import PASSWORD


def test_home_redirects_to_login_when_anonymous(db):
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/login?next=/dashboard/"


def test_bare_dashboard_path_redirects_to_the_home_page(db):
    response = Client().get("/dashboard")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_login_signs_in_with_email_and_password(dashboard_user):
    client = Client()
    response = client.post("/dashboard/login", {"username": dashboard_user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_login_refuses_a_wrong_password_with_the_error_on_the_form(dashboard_user):
    response = Client().post("/dashboard/login", {"username": dashboard_user.email, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_login_enforces_csrf(dashboard_user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/dashboard/login", {"username": dashboard_user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_logout_ends_the_session(dashboard_client):
    response = dashboard_client.post("/dashboard/logout")
    assert response.status_code == 302
    assert dashboard_client.get("/dashboard/").status_code == 302


def test_api_answers_without_session_headers_or_csrf(client_for):
    response = client_for.post("/api/contacts", {"msisdn": "+85512345678"}, format="json")
    assert response.status_code == 201
    assert "Content-Language" not in response
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
