"""`manage.py createsuperuser --email E` makes a user of the super-admin account, as Django users expect."""

import pytest
from django.core.management import call_command

from accounts.models import Account, User


@pytest.mark.django_db
def test_createsuperuser_makes_a_user_of_the_super_admin_account(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough password")

    call_command("createsuperuser", "--noinput", "--email", "root@example.com", verbosity=0)

    user = User.objects.get(email="root@example.com")
    assert user.account.is_super_admin
    assert user.check_password("a long enough password")


@pytest.mark.django_db
def test_createsuperuser_reuses_the_existing_super_admin_account(monkeypatch):
    existing = Account.objects.create(permissions=["super_admin"])
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough password")

    call_command("createsuperuser", "--noinput", "--email", "one@example.com", verbosity=0)
    call_command("createsuperuser", "--noinput", "--email", "two@example.com", verbosity=0)

    assert set(User.objects.values_list("account_id", flat=True)) == {existing.pk}
    assert Account.objects.count() == 1
