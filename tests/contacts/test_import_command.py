"""python manage.py import_contacts --account-id N path.csv"""

import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact


def run_command(*args) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_contacts", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_command_imports_the_file_and_prints_a_summary_when_file_is_valid(account, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("msisdn,name,age:number\n+252662345678,Kate,30\nnope,Bob,2\n")
    stdout, stderr = run_command("--account-id", str(account.pk), str(path))
    assert "Imported 2 rows" in stdout
    assert "1 created, 0 updated, 1 rejected" in stdout
    assert "line 3: msisdn is invalid" in stdout
    assert "100% 2/2 rows" in stderr
    assert Contact.objects.get(account=account).metadata == {"name": "Kate", "age": 30}


def test_command_fails_when_account_does_not_exist(db, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("msisdn\n+252662345678\n")
    with pytest.raises(CommandError, match="No account with id 999999"):
        run_command("--account-id", "999999", str(path))


def test_command_fails_when_file_has_no_msisdn_column(account, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("phone\n+252662345678\n")
    with pytest.raises(CommandError, match="has no msisdn column"):
        run_command("--account-id", str(account.pk), str(path))


def test_command_fails_when_file_does_not_exist(account, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run_command("--account-id", str(account.pk), str(tmp_path / "missing.csv"))
