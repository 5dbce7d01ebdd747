"""remote_request_params validation shared by the phone-call API and the PhoneCallCreate batch operation."""

import pytest

from phone_calls.remote_request_params import remote_request_params_errors


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ({"from": "1234", "status_callback": "https://example.com"}, []),
        ("flat", ["must be a hash"]),
        ({"zz": 1, "bogus": 2}, ["contains unknown Twilio call parameters: bogus, zz"]),
        ({"from": object()}, ["Value must be valid JSON."]),
    ],
)
def test_remote_request_params_errors_name_what_is_wrong_when_the_value_is_unusable(value, errors):
    assert remote_request_params_errors(value) == errors
