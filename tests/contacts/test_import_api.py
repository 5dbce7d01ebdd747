"""POST/GET /api/contact_imports at HTTP level."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Permission
from contacts.models import Contact, ContactImport

CSV = b"msisdn,name,age:number\n+252662345678,Kate,30\n252662345679,Bob,old\n"


def upload(client, content: bytes = CSV, name: str = "contacts.csv"):
    return client.post("/api/contact_imports", {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_create_imports_the_file_in_the_background_when_upload_is_valid(
    client_for, account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["filename"] == "contacts.csv"
    assert body["total_rows"] == 2
    assert response["Location"] == f"/api/contact_imports/{body['id']}"

    shown = client_for.get(response["Location"])
    assert shown.status_code == 200
    assert shown.json() | {"updated_at": None, "started_at": None, "finished_at": None} == body | {
        "status": "finished",
        "processed_rows": 2,
        "created_count": 1,
        "error_count": 1,
        "error_rows": [{"line": 3, "errors": {"age": ["is not a number"]}}],
        "updated_at": None,
        "started_at": None,
        "finished_at": None,
    }
    assert Contact.objects.get(account=account).metadata == {"name": "Kate", "age": 30}


def test_create_queues_the_import_only_after_commit_when_upload_is_valid(client_for, account):
    response = upload(client_for)
    assert response.status_code == 201
    assert ContactImport.objects.get(pk=response.json()["id"]).status == ContactImport.Status.QUEUED
    assert not Contact.objects.exists()


def test_create_needs_credentials(anonymous, db):
    response = upload(anonymous)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_create_needs_contacts_write_permission(make_client, account):
    client = make_client(account, permissions=[Permission.CONTACTS_READ])
    response = upload(client)
    assert response.status_code == 403
    assert "contacts_write" in str(response.json()["errors"])
    assert not ContactImport.objects.exists()


def test_list_needs_contacts_read_permission(make_client, account):
    client = make_client(account, permissions=[Permission.CONTACTS_WRITE])
    response = client.get("/api/contact_imports")
    assert response.status_code == 403
    assert "contacts_read" in str(response.json()["errors"])


def test_create_is_unprocessable_when_file_is_missing(client_for):
    response = client_for.post("/api/contact_imports", {})
    assert response.status_code == 422
    assert response.json() == {"errors": {"file": ["can't be blank"]}}


def test_create_is_unprocessable_when_file_is_a_json_string(client_for):
    response = client_for.post("/api/contact_imports", {"file": "msisdn\n+252662345678"}, format="json")
    assert response.status_code == 422
    assert "file" in response.json()["errors"]


def test_create_is_unprocessable_when_file_has_no_msisdn_column(client_for):
    response = upload(client_for, b"phone,name\n+252662345678,Kate\n")
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "file": [
                "has no msisdn column (its first line reads 'phone,name'; columns may be separated by ',', ';' or tab)"
            ]
        }
    }
    assert not ContactImport.objects.exists()


def test_create_is_unprocessable_when_file_is_not_csv(client_for):
    response = upload(client_for, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", name="photo.png")
    assert response.status_code == 422
    assert response.json() == {"errors": {"file": ["has a NUL character on line 3: it is not a CSV file"]}}


def test_create_is_unprocessable_when_file_is_empty(client_for):
    response = upload(client_for, b"")
    assert response.status_code == 422
    assert "file" in response.json()["errors"]


def test_create_is_unprocessable_when_a_column_type_is_unknown(client_for):
    response = upload(client_for, b"msisdn,age:integer\n+252662345678,3\n")
    assert response.status_code == 422
    assert "unknown type 'integer'" in response.json()["errors"]["file"][0]


def test_show_of_another_account_is_not_found(client_for, make_client, other_account):
    theirs = upload(make_client(other_account)).json()
    response = client_for.get(f"/api/contact_imports/{theirs['id']}")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_list_shows_only_the_accounts_imports_newest_first(client_for, make_client, other_account):
    upload(make_client(other_account))
    first, second = upload(client_for).json(), upload(client_for).json()
    response = client_for.get("/api/contact_imports")
    assert response.status_code == 200
    assert response["Total"] == "2"
    assert [item["id"] for item in response.json()] == [second["id"], first["id"]]


def test_list_filters_by_status(client_for, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        finished = upload(client_for).json()
    upload(client_for)
    response = client_for.get("/api/contact_imports", {"q[status]": "finished"})
    assert [item["id"] for item in response.json()] == [finished["id"]]


def test_list_is_unprocessable_when_filter_is_unknown(client_for):
    response = client_for.get("/api/contact_imports", {"q[nope]": "1"})
    assert response.status_code == 422


def test_update_is_not_allowed(client_for):
    created = upload(client_for).json()
    response = client_for.patch(f"/api/contact_imports/{created['id']}", {"status": "finished"}, format="json")
    assert response.status_code == 405
