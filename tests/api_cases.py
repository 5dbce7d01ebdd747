"""Generic checks every resource must pass (NetBox-style API test mixins); resource tests add what is special."""

from accounts.models import Permission


def listed_ids(response) -> list[int]:
    """The ids in a list response, in its order; fails showing the body unless the response is a 200."""
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()]


class ResourceAPICases:
    """Subclasses set `list_url`, `resource` and implement `make(account)` returning a record of that account."""

    list_url: str
    resource: str

    def make(self, account):
        raise NotImplementedError

    def detail_url(self, record) -> str:
        return f"{self.list_url}/{record.pk}"

    def test_list_needs_credentials(self, anonymous, db):
        response = anonymous.get(self.list_url)
        assert response.status_code == 401
        assert "WWW-Authenticate" in response
        assert "errors" in response.json()

    def test_list_needs_read_permission(self, make_client, account):
        client = make_client(account, permissions=[p for p in Permission.values if p != f"{self.resource}_read"])
        response = client.get(self.list_url)
        assert response.status_code == 403
        assert f"{self.resource}_read" in str(response.json()["errors"])

    def test_list_is_paginated_with_headers(self, client_for, account):
        self.make(account)
        response = client_for.get(self.list_url)
        assert response.status_code == 200
        assert response["Per-Page"] == "25"
        assert int(response["Total"]) >= 1

    def test_show_of_another_account_is_not_found(self, client_for, other_account):
        record = self.make(other_account)
        response = client_for.get(self.detail_url(record))
        assert response.status_code == 404
        assert response.json() == {"status": 404, "error": "Not Found"}

    def test_list_hides_other_accounts_records(self, client_for, account, other_account):
        theirs = self.make(other_account)
        mine = self.make(account)
        ids = listed_ids(client_for.get(self.list_url, {"per_page": 1000}))
        assert mine.pk in ids
        assert theirs.pk not in ids

    def test_unknown_filter_is_unprocessable(self, client_for, account):
        response = client_for.get(self.list_url, {"q[no_such_filter]": "1"})
        assert response.status_code == 422
        assert "no_such_filter" in str(response.json()["errors"])

    def test_unknown_sort_column_is_unprocessable(self, client_for, account):
        response = client_for.get(self.list_url, {"sort": "-nope"})
        assert response.status_code == 422

    def test_bad_metadata_operator_value_is_unprocessable(self, client_for, account):
        response = client_for.get(self.list_url, {"q[metadata][age.gt]": "old"})
        assert response.status_code == 422
        assert "errors" in response.json()

    def test_filters_on_metadata(self, client_for, account):
        record = self.make(account)
        type(record).objects.filter(pk=record.pk).update(metadata={"foo": "bar"})
        assert listed_ids(client_for.get(self.list_url, {"q[metadata][foo]": "bar"})) == [record.pk]
