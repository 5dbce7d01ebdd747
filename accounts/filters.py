from scfm.query.filters import ResourceFilterSet

from .models import AccessToken, Account, User


class AccountFilter(ResourceFilterSet):
    class Meta:
        model = Account
        fields = []


class AccessTokenFilter(ResourceFilterSet):
    class Meta:
        model = AccessToken
        fields = []


class UserFilter(ResourceFilterSet):
    class Meta:
        model = User
        fields = []
