import pytest

from tests.factories import AccessTokenFactory
from tests.scfm.reference_requests import Curl


@pytest.fixture
def curl(account):
    """Requests sent as the reference documents' curl commands send them, with a Bearer token of `account`."""
    return Curl(AccessTokenFactory(account=account).token)
