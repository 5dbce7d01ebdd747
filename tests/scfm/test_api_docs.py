"""The API docs work on a network with no internet: Swagger UI (/api/docs) and ReDoc (/api/redoc) load only assets
the app serves itself, and their pages name no other host (no CDN, no Google Fonts)."""

import re

import pytest
from django.test import Client

PAGES = ["/api/docs", "/api/redoc"]


@pytest.mark.parametrize("path", PAGES)
def test_api_docs_load_every_asset_from_the_app_itself(db, path):
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html[:500]
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content if response.streaming else [response.content])


@pytest.mark.parametrize("path", PAGES)
def test_api_docs_pages_reference_no_external_host(db, path):
    html = Client().get(path).content.decode()
    assert not re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", html)
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_redoc_forbids_fetching_from_other_hosts():
    """ReDoc's bundle shows a logo from cdn.redoc.ly: the page's Content-Security-Policy blocks it (ReDoc hides it)."""
    html = Client().get("/api/redoc").content.decode()
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' data:" and directives["connect-src"] == "'self'"


@pytest.mark.parametrize("path", PAGES)
def test_api_docs_point_at_the_schema(db, path):
    assert "/api/schema" in Client().get(path).content.decode()
