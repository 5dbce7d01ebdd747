"""Signals the accounts app sends, for the apps above it (which it may not import: docs/architecture.md).

`account_provider_changed(sender=Account, account_id=int)`: an account's provider credentials or address changed
(accounts.services.account_update); phone_calls/dialling_pauses.py listens, to probe a paused account at once.
"""

from django.dispatch import Signal

account_provider_changed = Signal()
