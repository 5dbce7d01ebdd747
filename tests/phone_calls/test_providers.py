"""Provider adapters through the real twilio library against the fake Twilio/Somleng server on loopback."""

import socket

import pytest

from phone_calls.providers.base import CreateOutcome, ProviderError
from phone_calls.providers.registry import provider_for_account
from phone_calls.providers.simulator import SimulatorProvider, choose_outcome
from phone_calls.providers.somleng import SomlengProvider
from phone_calls.providers.twilio import TwilioProvider
from tests.factories import AccountFactory, PhoneCallFactory

PARAMS = {
    "to": "+85510000001",
    "from": "1234",
    "url": "http://127.0.0.1:9/twilio_webhooks/phone_call_events?phone_call_id=1",
    "status_callback": "http://127.0.0.1:9/twilio_webhooks/phone_call_events?phone_call_id=1",
}


def twilio_for(fake, **kwargs) -> TwilioProvider:
    return TwilioProvider(
        account_sid=fake.account_sid, auth_token=fake.auth_token, api_base_url=fake.base_url, **kwargs
    )


@pytest.fixture
def phone_call(db):
    return PhoneCallFactory(msisdn="+85510000001")


def test_create_sends_the_call_with_basic_auth_when_accepted(fake_twilio, phone_call):
    result = twilio_for(fake_twilio).create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.ACCEPTED
    assert result.remote_call_id.startswith("CA")
    assert (result.remote_status, result.remote_direction) == ("queued", "outbound-api")
    assert result.response["sid"] == result.remote_call_id
    [request] = fake_twilio.create_requests()
    assert request.value("To") == "+85510000001"
    assert request.value("From") == "1234"
    assert request.value("StatusCallback") == PARAMS["status_callback"]
    assert request.headers["Authorization"].startswith("Basic ")


def test_create_is_rejected_when_the_number_is_invalid(fake_twilio, phone_call):
    fake_twilio.fail_to("+85510000001", "invalid_to")
    result = twilio_for(fake_twilio).create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.REJECTED
    assert "21211" in result.error_message and "HTTP 400" in result.error_message


def test_create_is_the_accounts_fault_when_credentials_are_wrong(fake_twilio, phone_call):
    provider = TwilioProvider(
        account_sid=fake_twilio.account_sid, auth_token="wrong", api_base_url=fake_twilio.base_url
    )
    result = provider.create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.ACCOUNT_FAULT
    assert "20003" in result.error_message
    assert fake_twilio.create_requests() == []


def test_create_is_the_accounts_fault_without_credentials(phone_call):
    result = TwilioProvider(account_sid=None, auth_token=None).create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.ACCOUNT_FAULT
    assert "credentials" in result.error_message


def test_create_is_retried_when_rate_limited(fake_twilio, phone_call):
    fake_twilio.fail_all("rate_limited")
    result = twilio_for(fake_twilio).create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.RETRY
    assert "20429" in result.error_message


def test_create_outcome_is_unknown_when_the_provider_fails_with_500(fake_twilio, phone_call):
    fake_twilio.fail_all("server_error")
    assert twilio_for(fake_twilio).create_call(phone_call, PARAMS).outcome == CreateOutcome.UNKNOWN


def test_create_outcome_is_unknown_when_the_response_times_out(fake_twilio, phone_call):
    fake_twilio.fail_all("hang")
    result = twilio_for(fake_twilio, timeout=0.5).create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.UNKNOWN
    assert "Timeout" in result.error_message


def test_create_is_the_accounts_fault_when_the_connection_is_refused(phone_call):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = TwilioProvider(account_sid="AC1", auth_token="t", api_base_url=f"http://127.0.0.1:{port}", timeout=2)
    assert provider.create_call(phone_call, PARAMS).outcome == CreateOutcome.ACCOUNT_FAULT


def test_somleng_rejection_with_a_string_code_is_an_error(fake_somleng, phone_call):
    fake_somleng.fail_to("+85510000001", "invalid_to")
    provider = SomlengProvider(
        account_sid=fake_somleng.account_sid, auth_token=fake_somleng.auth_token, api_base_url=fake_somleng.base_url
    )
    result = provider.create_call(phone_call, PARAMS)
    assert result.outcome == CreateOutcome.REJECTED
    assert "13224" in result.error_message and "HTTP 422" in result.error_message


def test_somleng_account_settings_point_the_library_at_its_api(fake_somleng, phone_call):
    account = AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_somleng.account_sid,
        somleng_auth_token=fake_somleng.auth_token,
        somleng_api_base_url=fake_somleng.base_url,
    )
    provider = provider_for_account(account)
    result = provider.create_call(phone_call, PARAMS)
    assert isinstance(provider, SomlengProvider)
    assert result.outcome == CreateOutcome.ACCEPTED
    assert len(result.remote_call_id) == 36  # a UUID


def test_fetch_returns_the_call_as_the_provider_sees_it(fake_twilio, phone_call):
    provider = twilio_for(fake_twilio)
    sid = provider.create_call(phone_call, PARAMS).remote_call_id
    fake_twilio.set_status(sid, "completed", duration=33)
    fetched = provider.fetch_call(sid)
    assert (fetched.remote_status, fetched.duration) == ("completed", 33)


def test_fetch_of_an_unknown_call_raises_provider_error(fake_twilio):
    with pytest.raises(ProviderError):
        twilio_for(fake_twilio).fetch_call("CA" + "0" * 32)


def test_environment_region_does_not_rewrite_the_host(fake_twilio, phone_call, monkeypatch):
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    assert twilio_for(fake_twilio).create_call(phone_call, PARAMS).outcome == CreateOutcome.ACCEPTED


def test_credentials_fall_back_to_the_environment(db, settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACenv", "env-token"
    provider = provider_for_account(AccountFactory(platform_provider_name="twilio"))
    assert (provider.account_sid, provider.auth_token) == ("ACenv", "env-token")


def test_somleng_host_from_the_environment_is_used(db, settings):
    settings.SOMLENG_CLIENT_REST_API_HOST = "api.somleng.example"
    provider = provider_for_account(AccountFactory(platform_provider_name="somleng"))
    assert provider.api_base_url == "https://api.somleng.example"


def test_platform_provider_setting_picks_the_simulator_by_default(db, settings):
    settings.PLATFORM_PROVIDER = "simulator"
    assert isinstance(provider_for_account(AccountFactory()), SimulatorProvider)


def test_simulator_outcomes_follow_the_account_mix(db):
    account = AccountFactory(settings={"simulator_outcomes": {"busy": 1}, "simulator_call_duration": 5})
    assert choose_outcome(account) == ("busy", 0)
    account.settings = {"simulator_outcomes": {"completed": 1}, "simulator_call_duration": 5}
    assert choose_outcome(account) == ("completed", 5)


def test_twilio_and_somleng_map_call_statuses_through_the_status_table():
    assert TwilioProvider.status_table["no-answer"] == "not_answered"
    assert SomlengProvider.status_table is TwilioProvider.status_table
    assert SimulatorProvider.status_table["completed"] == "completed"
