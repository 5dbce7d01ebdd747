"""Requests and checks shared by the replays of the reference documents' examples (test_reference_examples*.py)."""

import base64
import json

from rest_framework.test import APIClient

FORM = "application/x-www-form-urlencoded"


class Curl:
    """Sends requests the way the documents' curl commands do."""

    def __init__(self, token: str, basic: bool = False):
        self.client = APIClient()
        if basic:  # curl -u TOKEN:
            credentials = base64.b64encode(f"{token}:".encode()).decode()
            self.headers = {"HTTP_AUTHORIZATION": f"Basic {credentials}"}
        else:
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_VERSION": "HTTP/1.0"}

    def __call__(self, method: str, path: str, data: str | None = None):
        """`curl -d DATA -X METHOD path`: -d sends DATA as application/x-www-form-urlencoded."""
        if data is None:
            return self.client.generic(method, path, **self.headers)
        return self.client.generic(method, path, data, content_type=FORM, **self.headers)

    def form(self, method: str, path: str, *fields: str):
        """`curl -d a=1 -d b=2`: curl joins the -d values with '&'."""
        return self(method, path, "&".join(fields))


def doc_json(value: dict) -> str:
    """The documents' bodies are pretty-printed, one key a line."""
    return json.dumps(value, indent=0)


def assert_created(response, prefix: str, keys: set[str]) -> dict:
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/{prefix}/{body['id']}"
    assert set(body) >= keys
    return body


def assert_page(response, total: int, keys: set[str]) -> list:
    assert response.status_code == 200, response.content
    assert response["Per-Page"] == "25"
    assert response["Total"] == str(total)
    body = response.json()
    assert all(set(item) >= keys for item in body)
    return body
