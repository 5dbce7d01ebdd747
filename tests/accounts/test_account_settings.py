"""accounts.settings: every dialling setting's default, the API's ranges, and how junk in a stored hash reads."""

import pytest

from accounts.models import Account, default_account_settings
from accounts.services import account_create, account_update
from accounts.settings import AccountSettings, initial_settings, validate_settings
from scfm.errors import DomainError
from tests.factories import AccountFactory

DAY = 24 * 3600


def parsed(**raw) -> AccountSettings:
    return AccountSettings.from_settings(raw)


def errors_of(raw: dict) -> list[str]:
    with pytest.raises(DomainError) as caught:
        validate_settings(raw)
    return caught.value.errors["settings"]


# -- defaults -----------------------------------------------------------------------------------------------------
def test_every_setting_has_its_documented_default_when_the_hash_is_empty():
    settings = parsed()
    assert settings.from_phone_number == "1234"
    assert settings.phone_call_queue_limit == 200
    assert settings.max_calls_per_second == 10.0
    assert settings.max_phone_calls_for_callout_participation == 3
    assert settings.retry_statuses == {"not_answered", "busy", "failed"}
    assert settings.retry_backoff_seconds == 900
    assert dict(settings.simulator_outcomes) == {"completed": 0.7, "busy": 0.1, "no-answer": 0.1, "failed": 0.1}
    assert settings.simulator_delay_seconds == 3.0
    assert settings.simulator_call_duration == 20
    assert dict(settings.free_form) == {}


@pytest.mark.parametrize("raw", [None, [], "junk", 5])
def test_every_setting_is_its_default_when_the_hash_is_not_a_hash(raw):
    assert AccountSettings.from_settings(raw) == AccountSettings()


def test_a_new_account_starts_with_the_three_initial_settings():
    expected = {
        "from_phone_number": "1234",
        "phone_call_queue_limit": 200,
        "max_phone_calls_for_callout_participation": 3,
    }
    assert initial_settings() == expected
    assert default_account_settings() == expected
    assert Account().settings == expected


@pytest.mark.parametrize("key", ["phone_call_queue_limit", "max_calls_per_second", "retry_backoff_seconds"])
@pytest.mark.parametrize("blank", [None, ""])
def test_a_setting_is_its_default_when_null_or_blank(key, blank):
    assert getattr(parsed(**{key: blank}), key) == getattr(AccountSettings(), key)


def test_stored_values_are_read_with_their_types():
    settings = parsed(
        from_phone_number=5555,
        phone_call_queue_limit="30",
        max_calls_per_second="2.5",
        max_phone_calls_for_callout_participation=5,
        retry_statuses="busy, failed",
        retry_backoff_seconds=60,
        simulator_outcomes={"completed": "1", "busy": 2},
        simulator_delay_seconds=0.5,
        simulator_call_duration=7,
    )
    assert settings.from_phone_number == "5555"
    assert settings.phone_call_queue_limit == 30
    assert settings.max_calls_per_second == 2.5
    assert settings.max_phone_calls_for_callout_participation == 5
    assert settings.retry_statuses == {"busy", "failed"}
    assert settings.retry_backoff_seconds == 60
    assert dict(settings.simulator_outcomes) == {"completed": 1.0, "busy": 2.0}
    assert settings.simulator_delay_seconds == 0.5
    assert settings.simulator_call_duration == 7


# -- junk and clamps on read ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "junk"),
    [
        ("phone_call_queue_limit", "lots"),
        ("phone_call_queue_limit", "2.5"),
        ("phone_call_queue_limit", {"a": 1}),
        ("max_calls_per_second", "fast"),
        ("max_calls_per_second", [1]),
        ("max_calls_per_second", "inf"),
        ("max_phone_calls_for_callout_participation", "three"),
        ("retry_backoff_seconds", "soon"),
        ("retry_backoff_seconds", 0),
        ("retry_backoff_seconds", float("nan")),
        ("simulator_delay_seconds", "later"),
        ("simulator_call_duration", "long"),
        ("simulator_call_duration", float("inf")),
    ],
)
def test_a_number_is_its_default_when_the_stored_value_is_junk(key, junk):
    assert getattr(parsed(**{key: junk}), key) == getattr(AccountSettings(), key)


@pytest.mark.parametrize(
    ("key", "stored", "read"),
    [
        ("phone_call_queue_limit", -5, 0),
        ("phone_call_queue_limit", 10**9, 10**9),  # above the API's range, stored another way: honoured
        ("max_calls_per_second", -1, 0.0),
        ("max_calls_per_second", 0, 0.0),
        ("max_phone_calls_for_callout_participation", 25, 10),
        ("max_phone_calls_for_callout_participation", 0, 0),
        ("retry_backoff_seconds", -60, 0),
        ("retry_backoff_seconds", "0", 0),
        ("retry_backoff_seconds", 10**12, 30 * DAY),
        ("simulator_delay_seconds", -3, 0.0),
        ("simulator_call_duration", 2.9, 2),
    ],
)
def test_a_number_is_clamped_on_read(key, stored, read):
    value = getattr(parsed(**{key: stored}), key)
    assert value == read
    assert type(value) is type(read)


@pytest.mark.parametrize("junk", [5, {"busy": True}, [], "", None, False])
def test_retry_statuses_are_the_default_when_junk(junk):
    assert parsed(retry_statuses=junk).retry_statuses == {"not_answered", "busy", "failed"}


def test_retry_statuses_are_none_when_the_string_lists_nothing():
    assert parsed(retry_statuses=" , ").retry_statuses == frozenset()


@pytest.mark.parametrize("junk", ["busy", ["busy"], {}, {"completed": 0}, {"completed": "lots"}, {"busy": -1}])
def test_simulator_outcomes_are_the_default_when_junk_or_no_weight_is_positive(junk):
    assert dict(parsed(simulator_outcomes=junk).simulator_outcomes) == dict(AccountSettings().simulator_outcomes)


def test_simulator_outcomes_drop_weights_that_are_not_positive_numbers():
    mix = parsed(simulator_outcomes={"completed": 1, "busy": "x", "failed": 0, "no-answer": None}).simulator_outcomes
    assert dict(mix) == {"completed": 1.0}


def test_free_form_keys_are_kept_and_copied_out():
    defaults = {"limit": "30", "nested": {"a": 1}}
    settings = parsed(batch_operation_phone_call_queue_parameters=defaults, phone_call_queue_limit=3, other=[1])
    assert dict(settings.free_form) == {"batch_operation_phone_call_queue_parameters": defaults, "other": [1]}
    copied = settings.free_form_hash("batch_operation_phone_call_queue_parameters")
    copied["nested"]["a"] = 2
    assert defaults["nested"]["a"] == 1
    assert settings.free_form_hash("other") == {}
    assert settings.free_form_hash("missing") == {}
    assert settings.free_form_hash(None) == {}


def test_settings_are_read_only():
    settings = parsed()
    with pytest.raises(AttributeError):
        settings.phone_call_queue_limit = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.simulator_outcomes["busy"] = 1  # type: ignore[index]


@pytest.mark.django_db
def test_from_account_reads_the_accounts_hash():
    account = AccountFactory(settings={"phone_call_queue_limit": 7, "max_calls_per_second": "junk"})
    settings = AccountSettings.from_account(account)
    assert settings.phone_call_queue_limit == 7
    assert settings.max_calls_per_second == 10.0


@pytest.mark.django_db
def test_account_setting_reads_known_keys_parsed_and_other_keys_as_stored():
    account = AccountFactory(settings={"from_phone_number": "", "retry_backoff_seconds": "soon", "custom": "x"})
    assert account.setting("from_phone_number") == "1234"
    assert account.setting("retry_backoff_seconds") == 900
    assert account.setting("custom") == "x"
    assert account.setting("missing", "fallback") == "fallback"


# -- validation on write ----------------------------------------------------------------------------------------------
def test_valid_and_free_form_settings_pass_validation():
    validate_settings(
        {
            **initial_settings(),
            "max_calls_per_second": 2.5,
            "retry_statuses": "busy,failed",
            "retry_backoff_seconds": 60,
            "simulator_outcomes": {"completed": 1, "busy": 0},
            "phone_call_queue_limit": None,
            "simulator_delay_seconds": "",
            "free_form": {"anything": ["goes"]},
        }
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"max_phone_calls_for_callout_participation": "three"},
            "max_phone_calls_for_callout_participation must be a number",
        ),
        (
            {"max_phone_calls_for_callout_participation": 11},
            "max_phone_calls_for_callout_participation must be between 0 and 10",
        ),
        ({"phone_call_queue_limit": "2.5"}, "phone_call_queue_limit must be a number"),
        ({"phone_call_queue_limit": True}, "phone_call_queue_limit must be between 0 and 1000000"),
        ({"phone_call_queue_limit": 1_000_001}, "phone_call_queue_limit must be between 0 and 1000000"),
        ({"max_calls_per_second": -1}, "max_calls_per_second must be between 0 and 10000"),
        ({"retry_backoff_seconds": 10**12}, "retry_backoff_seconds must be between 0 and 2592000"),
        ({"simulator_delay_seconds": 86401}, "simulator_delay_seconds must be between 0 and 86400"),
        ({"simulator_call_duration": [1]}, "simulator_call_duration must be a number"),
        (
            {"retry_statuses": ["busy", "bored"]},
            "retry_statuses must be a list of: busy, canceled, errored, expired, failed, not_answered",
        ),
        (
            {"retry_statuses": {"busy": True}},
            "retry_statuses must be a list of: busy, canceled, errored, expired, failed, not_answered",
        ),
        (
            {"simulator_outcomes": {"completed": "lots"}},
            "simulator_outcomes must map busy, canceled, completed, failed, no-answer to weights",
        ),
        (
            {"simulator_outcomes": {"exploded": 1}},
            "simulator_outcomes must map busy, canceled, completed, failed, no-answer to weights",
        ),
        (
            {"simulator_outcomes": {"completed": 0}},
            "simulator_outcomes must map busy, canceled, completed, failed, no-answer to weights",
        ),
    ],
)
def test_a_known_setting_out_of_its_range_is_refused_with_its_message(raw, message):
    assert errors_of(raw) == [message]


def test_every_bad_setting_is_named_in_order():
    raw = {"simulator_outcomes": {}, "retry_statuses": 5, "simulator_call_duration": -1, "phone_call_queue_limit": "x"}
    assert errors_of(raw) == [
        "phone_call_queue_limit must be a number",
        "simulator_call_duration must be between 0 and 86400",
        "retry_statuses must be a list of: busy, canceled, errored, expired, failed, not_answered",
        "simulator_outcomes must map busy, canceled, completed, failed, no-answer to weights",
    ]


def test_a_hash_is_required():
    assert errors_of(["not", "a", "hash"]) == ["must be a hash"]


@pytest.mark.django_db
def test_account_services_refuse_bad_settings_and_store_nothing():
    before = Account.objects.count()
    with pytest.raises(DomainError):
        account_create(settings={"max_calls_per_second": -1})
    assert Account.objects.count() == before
    account = account_create(settings={"custom": 1})
    with pytest.raises(DomainError):
        account_update(account=account, settings={"phone_call_queue_limit": "lots"})
    account.refresh_from_db()
    assert account.settings == {**initial_settings(), "custom": 1}


# -- time_zone ----------------------------------------------------------------------------------------------------
def test_time_zone_is_utc_by_default():
    assert parsed().time_zone == "UTC"


@pytest.mark.parametrize("name", ["Asia/Phnom_Penh", "UTC", "America/Argentina/Buenos_Aires"])
def test_time_zone_reads_an_iana_name_and_validates(name):
    validate_settings({"time_zone": name})
    assert parsed(time_zone=name).time_zone == name


@pytest.mark.parametrize("junk", ["Mars/Olympus", "../etc/passwd", "asia/phnom_penh", 7, ["UTC"], "localtime"])
def test_time_zone_refuses_what_zoneinfo_does_not_know_and_reads_it_as_utc(junk):
    assert errors_of({"time_zone": junk}) == ["time_zone must be a time zone name such as Asia/Phnom_Penh or UTC"]
    assert parsed(time_zone=junk).time_zone == "UTC"
