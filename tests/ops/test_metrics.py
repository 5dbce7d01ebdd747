"""`/metrics` (scfm/api/metrics.py, scfm/metrics.py, phone_calls/metrics.py): who may read it, what it exports, and
that the counters count what happened (a status callback, a dial, a provider error) while the gauges read the
callout counters. The counters are process-wide, so tests compare before and after."""

import ipaddress

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from phone_calls.dialling import phone_call_queue_remote
from tests.factories import AccountFactory, CalloutFactory, CalloutParticipationFactory, PhoneCallFactory
from tests.phone_calls.webhook_helpers import callback_params, outbound_call, provider_account, signed_post

SCFM_METRICS = {
    "scfm_calls_dialled_total",
    "scfm_provider_errors_total",
    "scfm_status_callbacks_total",
    "scfm_dispatch_lag_seconds_bucket",
    "scfm_celery_queue_messages",
    "scfm_scheduler_tick_age_seconds",
    "scfm_scheduler_interval_seconds",
    "scfm_callouts",
    "scfm_calls_in_flight",
    "scfm_calls_in_flight_limit",
    "scfm_accounts_at_in_flight_limit",
    "scfm_accounts_dialling_paused",
    "scfm_participations_still_to_call",
}
DJANGO_METRICS = {"django_http_requests_total_by_method_total", "django_db_execute_total"}


def samples(text: str) -> dict[tuple, float]:
    """(name, sorted label pairs) -> value of every sample of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scrape(admin):
    def get() -> str:
        response = admin.get("/metrics")
        assert response.status_code == 200, response.content
        return response.content.decode()

    return get


# -- access -------------------------------------------------------------------------------------------------------
def test_metrics_is_unauthorized_when_no_credentials_are_given(anonymous):
    response = anonymous.get("/metrics", HTTP_ACCEPT="text/plain")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="SCFM"'
    assert response.json() == {"errors": {"base": ["Authentication credentials were not provided."]}}


def test_metrics_is_unauthorized_when_the_token_is_unknown(anonymous, db):
    response = anonymous.get("/metrics", HTTP_AUTHORIZATION="Bearer no-such-token")
    assert response.status_code == 401
    assert response.json() == {"errors": {"base": ["Invalid access token."]}}


def test_metrics_is_forbidden_when_the_token_is_not_a_super_admins(make_client):
    response = make_client(AccountFactory()).get("/metrics")
    assert response.status_code == 403
    assert response.json() == {"errors": {"base": ["This action needs a super admin account."]}}


def test_metrics_answers_a_super_admin_in_prometheus_text_format(admin):
    response = admin.get("/metrics", HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,*/*;q=0.1")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {name for name, _labels in samples(response.content.decode())}
    assert SCFM_METRICS | DJANGO_METRICS <= names


def test_metrics_refuses_other_methods_in_the_error_shape(admin):
    response = admin.post("/metrics", {})
    assert response.status_code == 405
    assert "errors" in response.json()


def test_metrics_is_open_to_anyone_when_scfm_metrics_public_is_set(anonymous, settings, db):
    settings.SCFM_METRICS_PUBLIC = True
    response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert "scfm_calls_dialled_total" in response.content.decode()


def test_metrics_is_open_to_an_allowed_network_without_credentials(anonymous, settings, db):
    settings.SCFM_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.0/8")]
    assert anonymous.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert anonymous.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_metrics_stays_closed_to_an_address_outside_the_allowed_networks(anonymous, settings, db):
    settings.SCFM_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert anonymous.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 401


def test_metrics_labels_take_only_known_values(scrape):
    """No ids or numbers as label values: every label value of SCFM's metrics is one of a fixed set."""
    from phone_calls import metrics as phone_call_metrics
    from scfm.celery import app

    allowed = {
        "outcome": set(phone_call_metrics.OUTCOMES),
        "code": set(phone_call_metrics.ERROR_CODES),
        "status": set(phone_call_metrics.CALLBACK_STATUSES),
        "queue": {queue.name for queue in app.conf.task_queues},
        "callout_status": {"running", "paused"},
        "le": {str(float(b)) if b != float("inf") else "+Inf" for b in phone_call_metrics.LAG_BUCKETS},
    }
    for (name, labels), _value in samples(scrape()).items():
        if name.startswith("scfm_"):
            for label, label_value in labels:
                assert label_value in allowed[label], (name, label, label_value)


# -- counted where it happens ---------------------------------------------------------------------------------------
def test_a_status_callback_increments_the_callback_counter_of_its_status(scrape, db):
    account = provider_account()
    call = outbound_call(account)
    before = value(scrape(), "scfm_status_callbacks_total", status="completed")
    params = callback_params(CallbackSource="call-progress-events", CallStatus="completed", CallDuration="12")
    response = signed_post(Client(), f"/twilio_webhooks/phone_call_events?phone_call_id={call.pk}", params)
    assert response.status_code == 200
    assert value(scrape(), "scfm_status_callbacks_total", status="completed") == before + 1


def test_a_callback_with_an_unknown_status_is_counted_as_other(scrape, db):
    call = outbound_call(provider_account())
    before = value(scrape(), "scfm_status_callbacks_total", status="other")
    params = callback_params(CallbackSource="call-progress-events", CallStatus="call-id-12345")
    signed_post(Client(), f"/twilio_webhooks/phone_call_events?phone_call_id={call.pk}", params)
    assert value(scrape(), "scfm_status_callbacks_total", status="other") == before + 1


@pytest.fixture
def queued_call(fake_somleng, transactional_db):
    account = AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake_somleng.account_sid,
        somleng_auth_token=fake_somleng.auth_token,
        somleng_api_base_url=fake_somleng.base_url,
    )
    callout = CalloutFactory(account=account, running=True)
    return PhoneCallFactory(callout_participation__callout=callout, status="queued", msisdn="+85510000101")


def test_a_dial_counts_its_outcome_and_the_dispatch_lag(scrape, queued_call, fake_somleng):
    text = scrape()
    accepted, lags = (
        value(text, "scfm_calls_dialled_total", outcome="accepted"),
        value(text, "scfm_dispatch_lag_seconds_count"),
    )
    phone_call_queue_remote(phone_call_id=queued_call.pk)
    assert len(fake_somleng.create_requests()) == 1
    text = scrape()
    assert value(text, "scfm_calls_dialled_total", outcome="accepted") == accepted + 1
    assert value(text, "scfm_dispatch_lag_seconds_count") == lags + 1


def test_a_provider_refusal_counts_its_error_code(scrape, queued_call, fake_somleng):
    fake_somleng.fail_all("unauthorized")  # HTTP 401, code 20003: the account's fault
    text = scrape()
    faults = value(text, "scfm_calls_dialled_total", outcome="account_fault")
    errors = value(text, "scfm_provider_errors_total", code="20003")
    phone_call_queue_remote(phone_call_id=queued_call.pk)
    text = scrape()
    assert value(text, "scfm_calls_dialled_total", outcome="account_fault") == faults + 1
    assert value(text, "scfm_provider_errors_total", code="20003") == errors + 1


def test_a_provider_error_code_outside_the_table_is_counted_as_other(scrape, queued_call, fake_somleng):
    fake_somleng.fail_all("invalid_to")  # Somleng 13224: the number's fault, not a code of the table
    before = value(scrape(), "scfm_provider_errors_total", code="other")
    phone_call_queue_remote(phone_call_id=queued_call.pk)
    assert value(scrape(), "scfm_provider_errors_total", code="other") == before + 1


# -- read at scrape time ------------------------------------------------------------------------------------------
def test_gauges_report_in_flight_calls_the_limit_and_participations_still_to_call(scrape, db):
    account = AccountFactory(settings={"phone_call_queue_limit": 2})
    running = CalloutFactory(account=account, running=True)
    paused = CalloutFactory(account=account, status="paused")
    for status in ("queued", "remotely_queued"):
        PhoneCallFactory(callout_participation__callout=running, status=status)
    CalloutParticipationFactory(callout=running)  # nothing dialled yet
    CalloutParticipationFactory(callout=running, answered=True)
    PhoneCallFactory(callout_participation__callout=paused, status="in_progress")
    CalloutFactory(account=AccountFactory(), running=True)  # another account: limit 200, nothing in flight

    text = scrape()
    assert value(text, "scfm_callouts", callout_status="running") == 2
    assert value(text, "scfm_callouts", callout_status="paused") == 1
    assert value(text, "scfm_calls_in_flight", callout_status="running") == 2
    assert value(text, "scfm_calls_in_flight", callout_status="paused") == 1
    assert value(text, "scfm_participations_still_to_call", callout_status="running") == 3
    assert value(text, "scfm_participations_still_to_call", callout_status="paused") == 1
    assert value(text, "scfm_calls_in_flight_limit") == 2 + 200
    assert value(text, "scfm_accounts_at_in_flight_limit") == 1  # 3 in flight over its callouts, limit 2


def test_gauges_read_the_counters_not_the_rows(scrape, db, django_assert_max_num_queries):
    callout = CalloutFactory(running=True)
    for _ in range(5):
        PhoneCallFactory(callout_participation__callout=callout, status="queued")
    scrape()
    with django_assert_max_num_queries(8):  # token, callouts, counters, accounts, paused, heartbeat: not per call
        scrape()


def test_the_scheduler_tick_age_is_infinite_before_the_first_tick_and_small_after(scrape, db):
    from scfm.health import scheduler_tick_record

    assert value(scrape(), "scfm_scheduler_tick_age_seconds") == float("inf")
    scheduler_tick_record()
    assert value(scrape(), "scfm_scheduler_tick_age_seconds") < 60


def test_queue_depth_is_read_from_the_broker_for_every_queue(scrape):
    from scfm.celery import app

    text = scrape()
    for queue in app.conf.task_queues:
        assert ("scfm_celery_queue_messages", (("queue", queue.name),)) in samples(text)
