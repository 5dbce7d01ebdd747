"""Rehearsals (issue 14): a copy of a callout that dials through the simulator whatever the account's provider.

The account is on Somleng pointing at the fake provider (tests/fakes; Somleng speaks Twilio's API at a base URL we
choose): running the rehearsal to the end makes 0 requests to it, while the same setup dials the real callout
through it; the real callout's participations and calls are untouched.
"""

import pytest

from batch_operations.rehearsals import callout_rehearsal_create
from batch_operations.tasks import copy_rehearsal
from callouts import counters
from callouts.models import Callout, CalloutParticipation
from callouts.services import callout_fire_event
from phone_calls import dispatch as dispatching
from phone_calls.models import PhoneCall
from phone_calls.polling import phone_calls_stale_fetch_enqueue
from scfm.errors import DomainError
from tests.factories import AccountFactory, CalloutFactory, CalloutParticipationFactory, PhoneCallFactory


def account_on(fake):
    return AccountFactory(
        platform_provider_name="somleng",
        somleng_account_sid=fake.account_sid,
        somleng_auth_token=fake.auth_token,
        somleng_api_base_url=fake.base_url,
        settings={
            "from_phone_number": "1234",
            "max_calls_per_second": 0,
            "simulator_outcomes": {"completed": 1},
            "simulator_delay_seconds": 0,
        },
    )


def snapshot(callout) -> list[tuple]:
    participations = CalloutParticipation.objects.filter(callout=callout).order_by("pk")
    calls = PhoneCall.objects.filter(callout=callout).order_by("pk")
    return [
        *participations.values_list("pk", "contact_id", "msisdn", "answered", "phone_calls_count", "updated_at"),
        *calls.values_list("pk", "status", "remote_call_id", "dispatched_at", "updated_at"),
    ]


def rehearse(callout, django_capture_on_commit_callbacks, **kwargs):
    """The rehearsal, with its participations copied (the copy task runs after commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        rehearsal = callout_rehearsal_create(callout=callout, **kwargs)
    rehearsal.refresh_from_db()
    return rehearsal


def run_to_the_end(callout, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        callout_fire_event(callout=callout, event="start")
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            dispatching.account_calls_dispatch(account_id=callout.account_id, hold_seconds=0)


@pytest.fixture
def real_callout(fake_twilio, db):
    callout = CalloutFactory(account=account_on(fake_twilio), audio_url="https://example.org/warning.mp3")
    for index in range(5):
        CalloutParticipationFactory(callout=callout, metadata={"n": index})
    PhoneCall.objects.bulk_create(
        PhoneCall(
            account_id=callout.account_id,
            callout=callout,
            callout_participation=participation,
            contact_id=participation.contact_id,
            msisdn=participation.msisdn,
            call_flow_logic=participation.call_flow_logic,
        )
        for participation in CalloutParticipation.objects.filter(callout=callout)
    )
    counters.callout_counts_recount(callout_ids=[callout.pk], lock=False)
    return callout


def test_running_a_rehearsal_to_the_end_makes_no_request_to_the_real_provider(
    fake_twilio, real_callout, django_capture_on_commit_callbacks
):
    before = snapshot(real_callout)
    rehearsal = rehearse(real_callout, django_capture_on_commit_callbacks)

    run_to_the_end(rehearsal, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        phone_calls_stale_fetch_enqueue()

    assert fake_twilio.create_requests() == []
    calls = PhoneCall.objects.filter(callout=rehearsal)
    assert calls.count() == 5
    assert set(calls.values_list("status", flat=True)) == {"completed"}
    assert all(sid.startswith("SIM") for sid in calls.values_list("remote_call_id", flat=True))
    assert CalloutParticipation.objects.filter(callout=rehearsal, answered=True).count() == 5
    assert snapshot(real_callout) == before
    assert counters.callout_counts(rehearsal.pk) == counters.counts_from_rows([rehearsal.pk])[rehearsal.pk]


def test_the_real_callout_on_the_same_account_is_dialled_through_the_real_provider(
    fake_twilio, real_callout, django_capture_on_commit_callbacks
):
    run_to_the_end(real_callout, django_capture_on_commit_callbacks)
    assert len(fake_twilio.create_requests()) == 5


def test_a_rehearsal_copies_the_flow_audio_settings_and_participants_in_chunks(
    real_callout, settings, django_capture_on_commit_callbacks
):
    settings.SCFM_POPULATION_CHUNK_SIZE = 2
    real_callout.settings = {"note": "x"}
    real_callout.save()
    rehearsal = rehearse(real_callout, django_capture_on_commit_callbacks)

    assert (rehearsal.is_rehearsal, rehearsal.rehearsal_of_id, rehearsal.status) == (
        True,
        real_callout.pk,
        "initialized",
    )
    assert (rehearsal.call_flow_logic, rehearsal.audio_url, rehearsal.settings) == (
        real_callout.call_flow_logic,
        real_callout.audio_url,
        {"note": "x"},
    )
    copied = CalloutParticipation.objects.filter(callout=rehearsal)
    original = CalloutParticipation.objects.filter(callout=real_callout)
    assert sorted(copied.values_list("contact_id", "msisdn", "metadata")) == sorted(
        original.values_list("contact_id", "msisdn", "metadata")
    )
    assert set(copied.values_list("phone_calls_count", "answered")) == {(1, False)}
    calls = PhoneCall.objects.filter(callout=rehearsal)
    assert sorted(calls.values_list("callout_participation_id", flat=True)) == sorted(
        copied.values_list("pk", flat=True)
    )
    assert set(calls.values_list("status", flat=True)) == {"created"}
    assert counters.callout_counts(rehearsal.pk) == counters.counts_from_rows([rehearsal.pk])[rehearsal.pk]


def test_a_rehearsal_of_a_callout_with_no_participants_is_empty(db, django_capture_on_commit_callbacks):
    rehearsal = rehearse(CalloutFactory(), django_capture_on_commit_callbacks)
    assert rehearsal.is_rehearsal and not CalloutParticipation.objects.filter(callout=rehearsal).exists()
    assert rehearsal.rehearsal_copy_cursor is None


def test_a_killed_copy_resumes_from_its_cursor_without_duplicates(real_callout, settings, monkeypatch):
    """The worker dies after the first chunk's commit; the task sent again copies the rest, once."""
    import batch_operations.rehearsals as rehearsals

    settings.SCFM_POPULATION_CHUNK_SIZE = 2
    rehearsal = callout_rehearsal_create(callout=real_callout)  # the task is not sent (no commit in this test)
    chunks = []
    real_chunk = rehearsals._copy_next_chunk

    def dies_after_one(rehearsal_id, size):
        if chunks:
            raise SystemExit("worker killed")
        chunks.append(1)
        return real_chunk(rehearsal_id, size)

    monkeypatch.setattr(rehearsals, "_copy_next_chunk", dies_after_one)
    with pytest.raises(SystemExit):
        rehearsals.callout_rehearsal_copy(rehearsal_id=rehearsal.pk)
    rehearsal.refresh_from_db()
    assert rehearsal.rehearsal_copy_cursor and CalloutParticipation.objects.filter(callout=rehearsal).count() == 2

    monkeypatch.setattr(rehearsals, "_copy_next_chunk", real_chunk)
    copy_rehearsal(rehearsal.pk)
    copy_rehearsal(rehearsal.pk)  # redelivered: nothing more
    assert CalloutParticipation.objects.filter(callout=rehearsal).count() == 5
    assert PhoneCall.objects.filter(callout=rehearsal).count() == 5
    assert counters.callout_counts(rehearsal.pk) == counters.counts_from_rows([rehearsal.pk])[rehearsal.pk]


def test_a_stalled_copy_is_sent_again_by_the_periodic_task(real_callout, settings, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from batch_operations.tasks import batch_operations_resume_stalled

    rehearsal = callout_rehearsal_create(callout=real_callout)  # its task was lost
    Callout.objects.filter(pk=rehearsal.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        batch_operations_resume_stalled()
    rehearsal.refresh_from_db()
    assert rehearsal.rehearsal_copy_cursor is None
    assert CalloutParticipation.objects.filter(callout=rehearsal).count() == 5


def test_a_rehearsal_is_refused_for_a_rehearsal(db):  # (no copy needed to refuse)
    rehearsal = callout_rehearsal_create(callout=CalloutFactory())
    with pytest.raises(DomainError) as error:
        callout_rehearsal_create(callout=rehearsal)
    assert "rehearsal" in error.value.errors["callout"][0]


def test_a_rehearsal_call_never_ends_a_paused_accounts_dialling(fake_twilio, db, django_capture_on_commit_callbacks):
    """The simulator accepting a rehearsal's probe call proves nothing about the account's own provider."""
    from django.utils import timezone

    account = account_on(fake_twilio)
    rehearsal = Callout.objects.create(
        account=account, call_flow_logic="CallFlowLogic::HelloWorld", is_rehearsal=True, status="running"
    )
    PhoneCallFactory(callout_participation__callout=rehearsal)
    account.dialling_paused_at = timezone.now() - timezone.timedelta(minutes=5)
    account.dialling_paused_reason = "Authenticate"
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        dispatching.account_calls_dispatch(account_id=account.pk, hold_seconds=0)
    account.refresh_from_db()
    assert fake_twilio.create_requests() == []
    assert account.dialling_paused_at is not None


def test_the_api_labels_a_rehearsal_and_ignores_writes_of_the_label(make_client, account):
    client = make_client(account)
    real = CalloutFactory(account=account)
    rehearsal = callout_rehearsal_create(callout=real)

    body = client.get(f"/api/callouts/{rehearsal.pk}").json()
    assert (body["is_rehearsal"], body["rehearsal_of_id"]) == (True, real.pk)
    assert client.get(f"/api/callouts/{real.pk}").json()["is_rehearsal"] is False
