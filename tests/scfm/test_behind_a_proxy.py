"""Absolute URLs behind a TLS-terminating proxy (issue 11, section 6).

The family: a request that reaches Django as plain http (the proxy terminated TLS) with X-Forwarded-Proto: https
and possibly X-Forwarded-Host / X-Forwarded-Port, under each configuration: SCFM_PUBLIC_URL set (it wins, with or
without a path prefix or a port), SCFM_TRUSTED_PROXY on (the headers are honoured), neither (the headers are ignored:
a client cannot forge the scheme). Link headers are absolute; Location headers stay relative (the contract).
"""

import os
import subprocess
import sys

import pytest

from tests.factories import ContactFactory

PROXY_HEADERS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "scfm.example.org"}


@pytest.fixture
def two_pages(client_for, account):
    ContactFactory.create_batch(3, account=account)
    return client_for


def _links(response) -> list[str]:
    return [part.split(">", 1)[0].lstrip(" <") for part in response["Link"].split(",")]


@pytest.mark.parametrize(
    "public_url",
    ["https://scfm.example.org", "https://scfm.example.org/", "https://scfm.example.org:8443", "https://ex.org/scfm"],
)
def test_link_header_starts_with_the_public_url_when_it_is_set(two_pages, settings, public_url):
    settings.SCFM_PUBLIC_URL = public_url.rstrip("/")
    settings.SCFM_PUBLIC_URL_CONFIGURED = True
    response = two_pages.get("/api/contacts?per_page=1&page=2", HTTP_HOST="10.0.0.5:8000", **PROXY_HEADERS)
    links = _links(response)
    assert len(links) == 4
    assert all(link.startswith(public_url.rstrip("/") + "/api/contacts?") for link in links), links


def test_link_header_honours_the_forwarded_scheme_and_host_behind_a_trusted_proxy(two_pages, settings):
    settings.SCFM_PUBLIC_URL_CONFIGURED = False
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    response = two_pages.get("/api/contacts?per_page=1", HTTP_HOST="10.0.0.5:8000", **PROXY_HEADERS)
    assert all(link.startswith("https://scfm.example.org/api/contacts?") for link in _links(response))


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(two_pages, settings):
    settings.SCFM_PUBLIC_URL_CONFIGURED = False
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.USE_X_FORWARDED_HOST = False
    response = two_pages.get("/api/contacts?per_page=1", HTTP_HOST="10.0.0.5:8000", **PROXY_HEADERS)
    assert all(link.startswith("http://10.0.0.5:8000/api/contacts?") for link in _links(response))


def test_location_stays_relative_behind_a_proxy(client_for, settings):
    settings.SCFM_PUBLIC_URL = "https://scfm.example.org"
    settings.SCFM_PUBLIC_URL_CONFIGURED = True
    response = client_for.post("/api/contacts", {"msisdn": "+85512345678"}, format="json", **PROXY_HEADERS)
    assert response.status_code == 201
    assert response["Location"].startswith("/api/contacts/")


def _settings_with(env: dict) -> list[str]:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'scfm.settings'); django.setup(); "
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_HOST, s.SCFM_PUBLIC_URL_CONFIGURED, s.SCFM_PUBLIC_URL)"
    )
    clean = {key: value for key, value in os.environ.items() if key not in ("SCFM_TRUSTED_PROXY", "SCFM_PUBLIC_URL")}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.split()


def test_trusted_proxy_setting_turns_on_the_forwarded_headers():
    on = _settings_with({"SCFM_TRUSTED_PROXY": "true", "SCFM_PUBLIC_URL": "https://scfm.example.org/"})
    assert on == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "True", "True", "https://scfm.example.org"]
    off = _settings_with({})
    assert off[:3] == ["None", "False", "False"]
