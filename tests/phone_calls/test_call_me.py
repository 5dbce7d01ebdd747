"""Call me first (issue 14): one real call of the callout's message to the user's own number, through the normal
dialling path, before the callout starts."""

import pytest

from callouts import counters
from phone_calls.call_me import callout_call_me, user_phone_number_set
from phone_calls.models import PhoneCall
from scfm.errors import DomainError
from tests.factories import AccountFactory, CalloutFactory, UserFactory


@pytest.fixture
def somleng_account(fake_twilio, db):
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_twilio.account_sid,
        somleng_auth_token=fake_twilio.auth_token,
        somleng_api_base_url=fake_twilio.base_url,
        settings={"from_phone_number": "1234"},
    )


def test_the_user_is_dialled_with_the_callouts_flow_before_it_starts(
    fake_twilio, somleng_account, django_capture_on_commit_callbacks
):
    callout = CalloutFactory(account=somleng_account, call_flow_logic="CallFlowLogic::PlayMessage")
    user = user_phone_number_set(user=UserFactory(account=somleng_account), phone_number="+855 12 345 678")
    assert user.phone_number == "+85512345678"

    with django_capture_on_commit_callbacks(execute=True):
        call = callout_call_me(callout=callout, user=user)

    [request] = fake_twilio.create_requests()
    assert request.value("To") == "+85512345678"
    call.refresh_from_db()
    assert (call.status, call.callout_id, call.callout_participation_id) == ("remotely_queued", callout.pk, None)
    assert call.call_flow_logic == "CallFlowLogic::PlayMessage"
    assert call.metadata == {"call_me_first": True, "user_id": user.pk}
    callout.refresh_from_db()
    assert callout.status == "initialized"
    assert counters.callout_counts(callout.pk) == counters.counts_from_rows([callout.pk])[callout.pk]


def test_call_me_is_refused_clearly_without_a_number(somleng_account, fake_twilio):
    user = UserFactory(account=somleng_account)
    with pytest.raises(DomainError) as error:
        callout_call_me(callout=CalloutFactory(account=somleng_account), user=user)
    assert "is not set" in error.value.errors["phone_number"][0]
    assert not PhoneCall.objects.exists()
    assert fake_twilio.create_requests() == []


@pytest.mark.parametrize("number", ["012 345 678", "not a number", "8.55123E+11"])
def test_a_number_that_cant_be_read_is_refused_under_phone_number(db, number):
    user = UserFactory()
    with pytest.raises(DomainError) as error:
        user_phone_number_set(user=user, phone_number=number)
    assert list(error.value.errors) == ["phone_number"]
    user.refresh_from_db()
    assert user.phone_number == ""


def test_a_blank_number_clears_it(db):
    user = user_phone_number_set(user=UserFactory(), phone_number="+85512345678")
    assert user_phone_number_set(user=user, phone_number="  ").phone_number == ""
