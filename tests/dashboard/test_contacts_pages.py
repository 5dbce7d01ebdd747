"""Contacts pages and CSV imports: the API's filters, create/edit/delete, upload with progress and rejected rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contacts.models import Contact, ContactImport
from tests.factories import CalloutParticipationFactory, ContactFactory

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/contacts", "/dashboard/contacts/new", "/dashboard/contacts/import"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_anonymous_visitors_to_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login?next=")


def test_list_answers_in_a_fixed_number_of_queries(dashboard_client, django_assert_num_queries):
    ContactFactory.create_batch(60, account=dashboard_client.account, metadata={"gender": "f"})
    # session, user with account; savepoint, the time limit, the capped count, the page, release
    with django_assert_num_queries(7):
        response = dashboard_client.get("/dashboard/contacts?mk=gender&mo=eq&mv=f")
    assert response.status_code == 200
    assert "60 contacts match." in response.content.decode()
    assert "before=" in response.content.decode()  # a next page


def test_list_shows_only_the_accounts_contacts_filtered_like_the_api(dashboard_client):
    match = ContactFactory(account=dashboard_client.account, metadata={"district": "0102", "age": 40})
    ContactFactory(account=dashboard_client.account, metadata={"district": "0201", "age": 20})
    theirs = ContactFactory(metadata={"district": "0102", "age": 40})

    by_rows = dashboard_client.get("/dashboard/contacts?mk=district&mo=in&mv=0102,0103&mk=age&mo=gt&mv=30")
    by_q = dashboard_client.get("/dashboard/contacts?q[metadata][age.numeric.gt]=30")

    for response in (by_rows, by_q):
        assert response.status_code == 200
        assert list(response.context["contacts"]) == [match]
        assert theirs.msisdn not in response.content.decode()


def test_list_caps_the_count(dashboard_client, monkeypatch):
    monkeypatch.setattr("dashboard.views.contacts.COUNT_CAP", 2)
    ContactFactory.create_batch(3, account=dashboard_client.account)
    assert "More than 2 contacts match." in dashboard_client.get("/dashboard/contacts").content.decode()


@pytest.mark.parametrize(
    "query", ["q[nope]=1", "mk=age&mo=gt&mv=old", "mk=born&mo=date_gt&mv=yesterday", "q[msisdn]=abc", "q=1"]
)
def test_list_shows_a_bad_filter_beside_the_form(dashboard_client, query):
    response = dashboard_client.get(f"/dashboard/contacts?{query}")
    assert response.status_code == 422
    assert 'id="filter-errors"' in response.content.decode()


def test_list_answers_htmx_with_the_table_only(dashboard_client):
    response = dashboard_client.get("/dashboard/contacts", HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode()
    assert 'id="contacts-count"' in response.content.decode()


def test_create_contact_with_metadata(dashboard_client):
    response = dashboard_client.post(
        "/dashboard/contacts/new",
        {"msisdn": "+855 12 345 678", "meta_key": ["name", "districts", ""], "meta_value": ["Sok", '["0102"]', ""]},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(account=dashboard_client.account)
    assert (contact.msisdn, contact.metadata) == ("+85512345678", {"name": "Sok", "districts": ["0102"]})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"msisdn": "12"}, "msisdn", "is invalid"),
        ({"msisdn": ""}, "msisdn", "This field is required."),
        (
            {"msisdn": "+85512345678", "meta_key": ["", "x", "x"], "meta_value": ["v", "1", "2"]},
            "__all__",
            "given twice",
        ),
    ],
)
def test_create_contact_shows_bad_input_next_to_the_field(dashboard_client, data, field, message):
    response = dashboard_client.post("/dashboard/contacts/new", data)
    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Contact.objects.filter(account=dashboard_client.account).exists()


def test_create_contact_shows_a_taken_number_next_to_the_field(dashboard_client):
    ContactFactory(account=dashboard_client.account, msisdn="+85512345678")
    response = dashboard_client.post("/dashboard/contacts/new", {"msisdn": "+85512345678"})
    assert response.status_code == 422
    assert response.context["form"].errors["msisdn"] == ["has already been taken"]


def test_edit_contact_replaces_metadata_and_keeps_unchanged_types(dashboard_client):
    contact = ContactFactory(account=dashboard_client.account, metadata={"age": 40, "name": "Sok", "old": "x"})
    page = dashboard_client.get(f"/dashboard/contacts/{contact.pk}")
    assert page.status_code == 200
    response = dashboard_client.post(
        f"/dashboard/contacts/{contact.pk}",
        {"msisdn": contact.msisdn, "meta_key": ["age", "name", ""], "meta_value": ["40", "Dara", ""]},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.metadata == {"age": 40, "name": "Dara"}


def test_another_accounts_contact_is_a_404(dashboard_client):
    contact = ContactFactory()
    for path in (f"/dashboard/contacts/{contact.pk}", f"/dashboard/contacts/{contact.pk}/delete"):
        assert dashboard_client.get(path).status_code == 404
        assert dashboard_client.post(path, {"msisdn": "+85512345678"}).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_delete_contact_confirms_then_deletes(dashboard_client):
    contact = ContactFactory(account=dashboard_client.account)
    assert dashboard_client.get(f"/dashboard/contacts/{contact.pk}/delete").status_code == 200
    assert dashboard_client.post(f"/dashboard/contacts/{contact.pk}/delete").status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_delete_contact_in_a_callout_is_refused_with_a_message(dashboard_client):
    participation = CalloutParticipationFactory(
        contact=ContactFactory(account=dashboard_client.account), callout__account=dashboard_client.account
    )
    response = dashboard_client.post(f"/dashboard/contacts/{participation.contact_id}/delete", follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Contact.objects.filter(pk=participation.contact_id).exists()


def test_contact_forms_enforce_csrf(csrf_client):
    assert csrf_client.post("/dashboard/contacts/new", {"msisdn": "+85512345678"}).status_code == 403


# -- CSV import -----------------------------------------------------------------------------------------------------
def test_sample_file_downloads_and_imports_cleanly(dashboard_client, django_capture_on_commit_callbacks):
    sample = dashboard_client.get("/dashboard/contacts/import/sample.csv")
    assert sample["Content-Type"].startswith("text/csv")
    assert "attachment" in sample["Content-Disposition"]
    upload = SimpleUploadedFile("sample.csv", sample.content, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post("/dashboard/contacts/import", {"file": upload})
    assert response.status_code == 302
    contact_import = ContactImport.objects.get(account=dashboard_client.account)
    assert response["Location"] == f"/dashboard/contacts/import/{contact_import.pk}"
    contact_import.refresh_from_db()
    assert (contact_import.status, contact_import.created_count, contact_import.error_count) == ("finished", 2, 0)


def test_import_shows_progress_and_rejected_rows_with_line_numbers(
    dashboard_client, django_capture_on_commit_callbacks
):
    csv = b"msisdn,name\n+85512345678,Sok\nnot a number,Dara\n+85517888999,Chan\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(
            "/dashboard/contacts/import", {"file": SimpleUploadedFile("c.csv", csv, content_type="text/csv")}
        )
    page = dashboard_client.get(response["Location"])
    content = page.content.decode()
    assert 'aria-valuenow="100"' in content
    assert "hx-trigger" not in content  # finished: no more polling
    rejected = page.context["import"].error_rows
    assert rejected[0]["line"] == 3
    assert '<td class="num">3</td>' in content
    partial = dashboard_client.get(response["Location"] + "/progress")
    assert "<html" not in partial.content.decode()
    assert 'id="import-progress"' in partial.content.decode()


def test_a_running_import_keeps_polling(dashboard_client):
    contact_import = ContactImport.objects.create(
        account=dashboard_client.account, status="running", total_rows=10, processed_rows=4, filename="c.csv"
    )
    content = dashboard_client.get(f"/dashboard/contacts/import/{contact_import.pk}/progress").content.decode()
    assert 'hx-trigger="every 2s"' in content
    assert 'aria-valuenow="40"' in content


def test_import_shows_a_malformed_file_next_to_the_field(dashboard_client):
    upload = SimpleUploadedFile("c.csv", b"name,age\nSok,3\n", content_type="text/csv")
    response = dashboard_client.post("/dashboard/contacts/import", {"file": upload})
    assert response.status_code == 422
    assert response.context["form"].errors["file"]
    assert not ContactImport.objects.exists()


def test_import_needs_a_file(dashboard_client):
    response = dashboard_client.post("/dashboard/contacts/import", {})
    assert response.status_code == 422
    assert response.context["form"].errors["file"]


def test_another_accounts_import_is_a_404(dashboard_client):
    theirs = ContactImport.objects.create(account=ContactFactory().account, filename="c.csv")
    assert dashboard_client.get(f"/dashboard/contacts/import/{theirs.pk}").status_code == 404
    assert dashboard_client.get(f"/dashboard/contacts/import/{theirs.pk}/progress").status_code == 404


def test_import_enforces_csrf(csrf_client):
    upload = SimpleUploadedFile("c.csv", b"msisdn\n+85512345678\n", content_type="text/csv")
    assert csrf_client.post("/dashboard/contacts/import", {"file": upload}).status_code == 403


def test_import_pages_answer_in_a_fixed_number_of_queries(dashboard_client, django_assert_num_queries):
    contact_import = ContactImport.objects.create(account=dashboard_client.account, filename="c.csv")
    with django_assert_num_queries(3):
        assert dashboard_client.get(f"/dashboard/contacts/import/{contact_import.pk}/progress").status_code == 200
    with django_assert_num_queries(3):
        assert dashboard_client.get("/dashboard/contacts/import").status_code == 200


def test_list_gives_up_on_a_slow_filter_and_says_so(dashboard_client, monkeypatch, require_postgresql):
    from contacts.selectors import contact_list

    ContactFactory(account=dashboard_client.account)
    monkeypatch.setattr("dashboard.views.contacts.TIME_LIMIT_MS", 20)
    monkeypatch.setattr(  # a filter as slow as one that scans a million contacts
        "dashboard.views.contacts._filtered",
        lambda request, account: contact_list(account=account).extra(where=["pg_sleep(0.2) IS NOT NULL"]),
    )
    response = dashboard_client.get("/dashboard/contacts")
    assert response.status_code == 200
    assert 'id="filter-timeout"' in response.content.decode()
    assert dashboard_client.get("/dashboard/users").status_code == 200  # the connection is still usable
