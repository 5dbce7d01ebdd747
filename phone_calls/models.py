from django.db import models
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from scfm.models import TimestampedModel

from .statuses import TERMINAL_STATUSES, PhoneCallStatus, status_for_remote_status


class PhoneCall(FSMModelMixin, TimestampedModel):
    """One attempt to call one number (or one inbound call), followed from creation to its outcome.

    Outbound calls belong to a callout participation; inbound calls have none. `dispatched_at` is stamped before the
    provider is asked to dial, so a repeated task never dials twice; `queue_after` delays retries.
    """

    Status = PhoneCallStatus

    # Foreign keys carry no index of their own (db_index=False): each is served by a named index in Meta that
    # starts with the column, so a population's INSERT maintains one index per column, not two.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="phone_calls", db_index=False
    )
    callout = models.ForeignKey(
        "callouts.Callout", on_delete=models.PROTECT, null=True, blank=True, related_name="phone_calls", db_index=False
    )
    callout_participation = models.ForeignKey(
        "callouts.CalloutParticipation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="phone_calls",
        db_index=False,
    )
    # none for a caller with no usable number (phone_calls/callers.py): `msisdn` keeps what the provider sent
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="phone_calls", db_index=False
    )
    status = FSMField(default=PhoneCallStatus.CREATED, choices=PhoneCallStatus.choices, protected=True)
    msisdn = models.CharField(max_length=255)
    remote_call_id = models.CharField(max_length=255, null=True, blank=True)  # unique: see Meta
    remote_status = models.CharField(max_length=64, null=True, blank=True)
    remote_direction = models.CharField(max_length=64, null=True, blank=True)
    remote_error_message = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict)
    remote_response = models.JSONField(default=dict)
    remote_queue_response = models.JSONField(default=dict)
    remote_request_params = models.JSONField(default=dict)
    call_flow_logic = models.CharField(max_length=255)
    remotely_queued_at = models.DateTimeField(null=True, blank=True)
    duration = models.IntegerField(default=0)
    lock_version = models.IntegerField(default=0)
    remote_status_fetch_queued_at = models.DateTimeField(null=True, blank=True)
    queue_after = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    create_batch_operation = models.ForeignKey(
        "batch_operations.BatchOperation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    queue_batch_operation = models.ForeignKey(
        "batch_operations.BatchOperation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    queue_remote_fetch_batch_operation = models.ForeignKey(
        "batch_operations.BatchOperation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            # at most one call per participation is with the provider (or about to be) at a time: nobody is dialled
            # twice at once, however the calls came (dispatcher, `queue` event, batch). Any number may wait in
            # `created`. Also serves the dispatcher's "has a live call" probe (statuses.IN_FLIGHT_STATUSES).
            models.UniqueConstraint(
                fields=["callout_participation"],
                condition=models.Q(status__in=["queued", "remotely_queued", "in_progress"]),
                name="phone_calls_one_in_flight_per_participation",
            ),
            # the provider's call id, unique once known: webhooks and polls find a call by it (status_callbacks,
            # remote_events: `remote_call_id = %s`). Partial, so the calls still waiting to be dialled (NULL; most
            # rows during a callout) are not in it; no varchar_pattern_ops copy (nothing searches it with LIKE).
            models.UniqueConstraint(
                fields=["remote_call_id"],
                condition=models.Q(remote_call_id__isnull=False),
                name="phone_calls_unique_remote_call_id",
            ),
        ]
        indexes = [
            # the dispatcher (created calls of running callouts) and /api/callouts/:id/phone_calls?q[status]=...
            # newest first: (callout, status) equality, then id descending with no sort
            models.Index(fields=["callout", "status", "-id"], name="phone_calls_callout_st_idx"),
            # /api/callouts/:id/phone_calls newest first (keyset over the callout's calls)
            models.Index(fields=["callout", "-id"], name="phone_calls_callout_id_idx"),
            # the dispatcher's in-flight count (`account_id = %s AND status IN (queued, remotely_queued,
            # in_progress)`), /api/phone_calls?q[status]=..., the account's PROTECT check on delete; with -id, the
            # dashboard's account-wide list of one status newest first and its capped count (index only)
            models.Index(fields=["account", "status", "-id"], name="phone_calls_account_st_idx"),
            # /api/callout_participations/:id/phone_calls, retry checks and the participation's PROTECT check
            models.Index(fields=["callout_participation"], name="phone_calls_particip_idx"),
            # /api/contacts/:id/phone_calls and the contact delete check
            models.Index(fields=["contact"], name="phone_calls_contact_idx"),
            # stale-status polling (polling.phone_calls_stale_fetch_enqueue: remotely queued / in progress calls,
            # oldest remotely_queued_at first): only those live rows are in it
            models.Index(
                fields=["remotely_queued_at"],
                condition=models.Q(status__in=["remotely_queued", "in_progress"]),
                name="phone_calls_stale_poll_idx",
            ),
            # q[msisdn]
            models.Index(fields=["msisdn"], name="phone_calls_msisdn_idx"),
            # created_at range filters (q[created_at_after] ...) and the retention sweep
            models.Index(fields=["created_at"], name="phone_calls_created_at_idx"),
            # the three batch-operation references: `WHERE <fk> = %s` (a PhoneCallCreate's calls,
            # callouts.selectors) and ON DELETE SET NULL when an operation is deleted; only the rows a batch touched
            models.Index(
                fields=["create_batch_operation"],
                condition=models.Q(create_batch_operation__isnull=False),
                name="phone_calls_create_batch_idx",
            ),
            models.Index(
                fields=["queue_batch_operation"],
                condition=models.Q(queue_batch_operation__isnull=False),
                name="phone_calls_queue_batch_idx",
            ),
            models.Index(
                fields=["queue_remote_fetch_batch_operation"],
                condition=models.Q(queue_remote_fetch_batch_operation__isnull=False),
                name="phone_calls_fetch_batch_idx",
            ),
            # the dispatcher's claim: an account's created calls in id order
            models.Index(
                fields=["account", "id"], condition=models.Q(status="created"), name="phone_calls_dispatch_idx"
            ),
            # the sweeper: calls claimed or dialled but never accepted
            models.Index(
                fields=["updated_at"], condition=models.Q(status="queued"), name="phone_calls_queued_sweep_idx"
            ),
        ]

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @transition(field=status, source=PhoneCallStatus.CREATED, target=PhoneCallStatus.QUEUED)
    def queue(self):
        """Claimed for dialling."""

    @transition(field=status, source=PhoneCallStatus.QUEUED, target=PhoneCallStatus.CREATED)
    def requeue(self):
        """The provider certainly did not take the call (429, connection refused) or its callout stopped
        running before it was dialled: back in line, to be claimed again later."""

    @transition(field=status, source=PhoneCallStatus.QUEUED, target=PhoneCallStatus.EXPIRED)
    def expire(self):
        """Dialled (or claimed) an hour ago and never accepted by the provider."""

    @transition(
        field=status,
        source=PhoneCallStatus.QUEUED,
        target=RETURN_VALUE(PhoneCallStatus.REMOTELY_QUEUED, PhoneCallStatus.ERRORED),
    )
    def queue_remote(self):
        """The provider answered the dial request: accepted (a remote call id) or refused."""
        return PhoneCallStatus.REMOTELY_QUEUED if self.remote_call_id else PhoneCallStatus.ERRORED

    @transition(
        field=status,
        source=[
            PhoneCallStatus.CREATED,
            PhoneCallStatus.QUEUED,
            PhoneCallStatus.REMOTELY_QUEUED,
            PhoneCallStatus.IN_PROGRESS,
            PhoneCallStatus.EXPIRED,
        ],
        target=RETURN_VALUE(*PhoneCallStatus.values),
    )
    def complete(self, now):
        """Follow the provider's latest `remote_status` (forward only)."""
        return status_for_remote_status(self.status, self.remote_status, self.remotely_queued_at, now)


class RemotePhoneCallEvent(TimestampedModel):
    """One webhook callback from Twilio/Somleng about a call: the posted parameters, kept as they came."""

    # indexed by remote_events_call_idx (Meta), not a second automatic index
    phone_call = models.ForeignKey(
        PhoneCall, on_delete=models.PROTECT, related_name="remote_phone_call_events", db_index=False
    )
    details = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    remote_call_id = models.CharField(max_length=255)
    remote_direction = models.CharField(max_length=64)
    call_flow_logic = models.CharField(max_length=255)
    call_duration = models.IntegerField(default=0)

    class Meta:
        indexes = [
            # events of a call
            models.Index(fields=["phone_call"], name="remote_events_call_idx"),
            # q[remote_call_id]
            models.Index(fields=["remote_call_id"], name="remote_events_sid_idx"),
        ]


class Recording(TimestampedModel):
    """A recording made during a call (`<Record>`), with its audio fetched from the provider."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="recordings")
    phone_call = models.ForeignKey(PhoneCall, on_delete=models.PROTECT, related_name="recordings")
    # none when the call's caller had no usable number
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="recordings"
    )
    external_recording_id = models.CharField(max_length=255, unique=True)
    external_recording_url = models.CharField(max_length=2048)
    duration = models.IntegerField(default=0)
    audio_file = models.FileField(upload_to="recordings/", null=True, blank=True)

    class Meta:
        indexes = [
            # recordings list, newest first
            models.Index(fields=["account", "created_at"], name="recordings_account_idx"),
        ]


class DispatchState(models.Model):
    """Per-account dialling state: the pacing schedule (`next_slot_at`, the send time of the account's next paced
    call; `tokens` / `refilled_at` are the token bucket it replaced, unused). Its row lock serialises claims for one
    account, so the in-flight cap and the calls-per-second rate hold across any number of workers."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="dispatch_state"
    )
    tokens = models.FloatField(default=0)
    refilled_at = models.DateTimeField(null=True, blank=True)
    next_slot_at = models.DateTimeField(null=True, blank=True)


class SchedulerLease(models.Model):
    """A named, expiring lease held by one worker, so two schedulers (or two dispatch loops of one account) never
    run the same periodic job at the same time."""

    name = models.CharField(max_length=100, primary_key=True)
    owner = models.CharField(max_length=100, default="")
    expires_at = models.DateTimeField()
