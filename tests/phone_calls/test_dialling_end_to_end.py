"""End to end through the API, the dialler, the fake Somleng server and signed status callbacks to the live server:
contacts -> callout -> participations -> phone calls -> start -> dialled -> callbacks -> completed / retried."""

import pytest

from phone_calls.models import PhoneCall
from tests.factories import AccountFactory


@pytest.fixture
def somleng_account(fake_somleng, transactional_db):
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_somleng.account_sid,
        somleng_auth_token=fake_somleng.auth_token,
        somleng_api_base_url=fake_somleng.base_url,
        settings={
            "from_phone_number": "1234",
            "phone_call_queue_limit": 200,
            "max_calls_per_second": 0,
            "max_phone_calls_for_callout_participation": 3,
            "retry_backoff_seconds": 900,
        },
    )


def test_a_started_callout_is_dialled_and_callbacks_complete_or_retry_its_calls(
    fake_somleng, somleng_account, make_client, live_server, settings
):
    settings.SCFM_PUBLIC_URL = live_server.url
    client = make_client(somleng_account)
    numbers = ["+85510000101", "+85510000102", "+85510000103"]
    contact_ids = [client.post("/api/contacts", {"msisdn": number}).json()["id"] for number in numbers]
    callout_id = client.post("/api/callouts", {"call_flow_logic": "CallFlowLogic::HelloWorld"}).json()["id"]
    for contact_id in contact_ids:
        participation = client.post(
            f"/api/callouts/{callout_id}/callout_participations", {"contact_id": contact_id}
        ).json()
        response = client.post(f"/api/callout_participations/{participation['id']}/phone_calls", {})
        assert response.status_code == 201

    assert client.post(f"/api/callouts/{callout_id}/callout_events", {"event": "start"}).status_code == 201

    requests = fake_somleng.create_requests()
    assert sorted(request.value("To") for request in requests) == numbers
    calls = {call.msisdn: call for call in PhoneCall.objects.filter(callout_id=callout_id)}
    assert {call.status for call in calls.values()} == {"remotely_queued"}

    outcomes = {"+85510000101": "completed", "+85510000102": "busy", "+85510000103": "no-answer"}
    for msisdn, outcome in outcomes.items():
        status, _body = fake_somleng.finish(calls[msisdn].remote_call_id, outcome, duration=30)
        assert status in (200, 201, 204)

    finished = {call.msisdn: call.status for call in PhoneCall.objects.filter(pk__in=[c.pk for c in calls.values()])}
    assert finished == {"+85510000101": "completed", "+85510000102": "busy", "+85510000103": "not_answered"}
    retries = PhoneCall.objects.filter(callout_id=callout_id, status="created")
    assert sorted(call.msisdn for call in retries) == ["+85510000102", "+85510000103"]
    assert all(call.queue_after is not None for call in retries)
    answered = client.get(f"/api/callouts/{callout_id}/callout_participations", {"q[answered]": "true"})
    assert [item["msisdn"] for item in answered.json()] == ["+85510000101"]
