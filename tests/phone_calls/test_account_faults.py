"""What the provider answers to Calls.create, classified once (providers/twilio.py CREATE_ERROR_TABLE), and what
the dialler does with the account's faults (phone_calls/dialling_pauses.py) — issue 11, 7b.

Families:
- the account's fault: HTTP 401 / 403 whatever the code; Twilio 20003 (authenticate), 20005 (not active: funds),
  10001 (disabled), 20006 (access denied), 20403, 70051, 90010 whatever the HTTP status; no credentials; an unknown
  provider name; the API unreachable (connection refused, unresolvable, connect timeout) -> the call goes back to
  `created` with no attempt used, the account's dialling pauses with the reason on its callouts and statistics, a
  probe a minute (at once when credentials change) resumes it;
- the number's or the request's fault: any other 4xx (21210, 21211, Somleng 13224, 404...) -> `errored`;
- try again: 429 / 20429 -> back to `created` later; 5xx, read timeouts -> unknown, never dialled twice.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_update
from phone_calls import dialling_pauses
from phone_calls.dispatch import phone_calls_claim
from phone_calls.models import PhoneCall
from phone_calls.providers.base import CreateOutcome
from phone_calls.providers.twilio import CREATE_ERROR_TABLE, TwilioProvider, create_error_outcome
from tests.factories import AccountFactory, PhoneCallFactory

ACCOUNT = CreateOutcome.ACCOUNT_FAULT
PARAMS = {
    "to": "+85510000001",
    "from": "1234",
    "url": "http://127.0.0.1:9/x",
    "status_callback": "http://127.0.0.1:9/x",
}


@pytest.mark.parametrize(
    "http_status, code, outcome",
    [
        (401, 20003, ACCOUNT),
        (401, "20003", ACCOUNT),  # Somleng: string codes
        (401, 20005, ACCOUNT),
        (401, None, ACCOUNT),
        (403, 10001, ACCOUNT),
        (403, 20403, ACCOUNT),
        (403, None, ACCOUNT),
        (400, 20005, ACCOUNT),  # the code decides whatever the status
        (400, 10001, ACCOUNT),
        (400, 20006, ACCOUNT),
        (401, 70051, ACCOUNT),
        (400, 90010, ACCOUNT),
        (400, 21211, CreateOutcome.REJECTED),  # invalid To
        (400, 21210, CreateOutcome.REJECTED),  # invalid From (caller id)
        (422, "21210", CreateOutcome.REJECTED),
        (422, "13224", CreateOutcome.REJECTED),  # Somleng: unsupported or invalid number
        (400, 21215, CreateOutcome.REJECTED),  # geo permission for that destination
        (404, 20404, CreateOutcome.REJECTED),
        (400, None, CreateOutcome.REJECTED),
        (429, 20429, CreateOutcome.RETRY),
        (429, None, CreateOutcome.RETRY),
        (400, 20429, CreateOutcome.RETRY),
        (500, 20500, CreateOutcome.UNKNOWN),
        (502, None, CreateOutcome.UNKNOWN),
        (503, "", CreateOutcome.UNKNOWN),
        (None, None, CreateOutcome.UNKNOWN),
        (302, None, CreateOutcome.UNKNOWN),
    ],
)
def test_create_errors_are_classified_by_the_one_table(http_status, code, outcome):
    assert create_error_outcome(http_status, code) == outcome


def test_every_row_of_the_table_names_what_it_covers():
    assert all(meaning for _kind, _key, _outcome, meaning in CREATE_ERROR_TABLE)
    codes = [key for kind, key, _outcome, _meaning in CREATE_ERROR_TABLE if kind == "code"]
    assert len(codes) == len(set(codes))


@pytest.fixture
def phone_call(db):
    return PhoneCallFactory(msisdn="+85510000001")


@pytest.mark.parametrize(
    "error, outcome, code",
    [
        ("unauthorized", ACCOUNT, "20003"),
        ("account_not_active", ACCOUNT, "20005"),
        ("account_suspended", ACCOUNT, "10001"),
        ("invalid_to", CreateOutcome.REJECTED, "21211"),
        ("unprocessable", CreateOutcome.REJECTED, "21210"),
        ("rate_limited", CreateOutcome.RETRY, "20429"),
        ("server_error", CreateOutcome.UNKNOWN, "20500"),
    ],
)
def test_the_real_library_answers_are_classified(fake_twilio, phone_call, error, outcome, code):
    fake_twilio.fail_all(error)
    provider = TwilioProvider(
        account_sid=fake_twilio.account_sid, auth_token=fake_twilio.auth_token, api_base_url=fake_twilio.base_url
    )
    result = provider.create_call(phone_call, PARAMS)
    assert result.outcome == outcome
    assert code in result.error_message


def test_an_unresolvable_api_host_is_the_accounts_fault(phone_call):
    provider = TwilioProvider(
        account_sid="AC1", auth_token="t", api_base_url="http://scfm-no-such-host.invalid", timeout=2
    )
    assert provider.create_call(phone_call, PARAMS).outcome == ACCOUNT


# -- the pause ---------------------------------------------------------------------------------------------------
@pytest.fixture
def somleng_account(fake_somleng, transactional_db):
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_somleng.account_sid,
        somleng_auth_token="the-wrong-token",
        somleng_api_base_url=fake_somleng.base_url,
        settings={
            "from_phone_number": "1234",
            "phone_call_queue_limit": 200,
            "max_calls_per_second": 0,
            "max_phone_calls_for_callout_participation": 3,
        },
    )


NUMBERS = ["+85510000101", "+85510000102", "+85510000103", "+85510000104"]


def _started_callout(client) -> int:
    contact_ids = [client.post("/api/contacts", {"msisdn": number}).json()["id"] for number in NUMBERS]
    callout_id = client.post("/api/callouts", {"call_flow_logic": "CallFlowLogic::HelloWorld"}).json()["id"]
    for contact_id in contact_ids:
        participation = client.post(
            f"/api/callouts/{callout_id}/callout_participations", {"contact_id": contact_id}
        ).json()
        assert client.post(f"/api/callout_participations/{participation['id']}/phone_calls", {}).status_code == 201
    assert client.post(f"/api/callouts/{callout_id}/callout_events", {"event": "start"}).status_code == 201
    return callout_id


def test_a_wrong_token_pauses_dialling_and_fixing_it_dials_every_participation_once(
    fake_somleng, somleng_account, make_client, admin, live_server, settings
):
    settings.SCFM_PUBLIC_URL = live_server.url
    client = make_client(somleng_account)
    callout_id = _started_callout(client)

    # the first dial is refused for the account: nothing dialled, every call back in line, no attempt used
    assert fake_somleng.create_requests() == []
    calls = PhoneCall.objects.filter(callout_id=callout_id)
    assert sorted(call.status for call in calls) == ["created"] * len(NUMBERS)
    assert all(call.dispatched_at is None for call in calls)
    participations = client.get(f"/api/callouts/{callout_id}/callout_participations").json()
    assert [item["phone_calls_count"] for item in participations] == [1] * len(NUMBERS)
    account = Account.objects.get(pk=somleng_account.pk)
    assert account.dialling_paused_at is not None and "Authenticate" in account.dialling_paused_reason
    refused = [r for r in fake_somleng.requests if r.method == "POST" and r.status == 401]
    assert len(refused) == 1  # the calls claimed with it were not sent once the account was paused

    # the reason is on the callout and its statistics
    assert "Authenticate" in client.get(f"/api/callouts/{callout_id}").json()["dialling_paused_reason"]
    statistics = client.get(f"/api/callouts/{callout_id}/callout_statistics").json()
    assert "Authenticate" in statistics["dialling_paused_reason"]

    # a scheduler pass before the probe is due dials nothing
    assert phone_calls_claim(account_id=account.pk).phone_call_ids == []

    # fix the token: a probe at once, then everyone is dialled, nobody twice
    response = admin.patch(
        f"/api/accounts/{account.pk}", {"somleng_auth_token": fake_somleng.auth_token}, format="json"
    )
    assert response.status_code in (200, 204), response.content
    dials = fake_somleng.dials_by_phone_call_id()
    assert sorted(dials) == sorted(str(call.pk) for call in calls)
    assert set(dials.values()) == {1}
    assert {call.status for call in PhoneCall.objects.filter(callout_id=callout_id)} == {"remotely_queued"}
    account.refresh_from_db()
    assert (account.dialling_paused_at, account.dialling_paused_reason, account.dialling_probe_at) == (None,) * 3
    assert client.get(f"/api/callouts/{callout_id}").json()["dialling_paused_reason"] is None
    participations = client.get(f"/api/callouts/{callout_id}/callout_participations").json()
    assert [item["phone_calls_count"] for item in participations] == [1] * len(NUMBERS)


def test_the_probe_is_one_call_a_minute_and_a_good_answer_resumes(
    fake_somleng, somleng_account, make_client, live_server, settings
):
    settings.SCFM_PUBLIC_URL = live_server.url
    callout_id = _started_callout(make_client(somleng_account))
    account_id = somleng_account.pk
    paused_at = Account.objects.get(pk=account_id).dialling_paused_at
    probe_at = Account.objects.get(pk=account_id).dialling_probe_at
    assert probe_at - paused_at == dialling_pauses.PROBE_INTERVAL

    # still refused: the probe (one call) fails, the pause stays, the next probe a minute later
    Account.objects.filter(pk=account_id).update(dialling_probe_at=timezone.now() - timedelta(seconds=1))
    assert len(phone_calls_claim(account_id=account_id).phone_call_ids) == 1
    account = Account.objects.get(pk=account_id)
    assert account.dialling_paused_at == paused_at
    assert account.dialling_probe_at > timezone.now() + timedelta(seconds=50)
    assert PhoneCall.objects.filter(callout_id=callout_id, status="created").count() == len(NUMBERS)
    assert len([r for r in fake_somleng.requests if r.method == "POST" and r.status == 401]) == 2

    # the provider takes the account again (the environment's token fixed, say): the next probe resumes dialling
    fake_somleng.add_account(fake_somleng.account_sid, "the-wrong-token")
    Account.objects.filter(pk=account_id).update(dialling_probe_at=timezone.now() - timedelta(seconds=1))
    phone_calls_claim(account_id=account_id)
    assert Account.objects.get(pk=account_id).dialling_paused_at is None
    assert set(fake_somleng.dials_by_phone_call_id().values()) == {1}
    assert PhoneCall.objects.filter(callout_id=callout_id, status="remotely_queued").count() == len(NUMBERS)


def test_a_number_refused_for_its_own_fault_errors_without_pausing(
    fake_somleng, somleng_account, make_client, live_server, settings
):
    settings.SCFM_PUBLIC_URL = live_server.url
    Account.objects.filter(pk=somleng_account.pk).update(somleng_auth_token=fake_somleng.auth_token)
    fake_somleng.fail_to(NUMBERS[0], "invalid_to")
    callout_id = _started_callout(make_client(somleng_account))
    statuses = dict(PhoneCall.objects.filter(callout_id=callout_id).values_list("msisdn", "status"))
    assert statuses == {NUMBERS[0]: "errored", **{number: "remotely_queued" for number in NUMBERS[1:]}}
    assert "13224" in PhoneCall.objects.get(msisdn=NUMBERS[0], callout_id=callout_id).remote_error_message
    assert Account.objects.get(pk=somleng_account.pk).dialling_paused_at is None


def test_a_credentials_change_of_an_unpaused_account_changes_no_pause(db):
    account = AccountFactory()
    account_update(account=account, twilio_auth_token="new")
    assert Account.objects.get(pk=account.pk).dialling_probe_at is None


def test_an_account_save_never_undoes_a_pause_it_did_not_read(db):
    account = AccountFactory()
    stale = Account.objects.get(pk=account.pk)
    dialling_pauses.account_dialling_pause(account_id=account.pk, reason="Authenticate (code 20003, HTTP 401)")
    account_update(account=stale, metadata={"team": "ops"})
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.dialling_paused_reason == "Authenticate (code 20003, HTTP 401)"
    assert fresh.metadata == {"team": "ops"}
