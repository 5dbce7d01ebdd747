from django.core.management.base import BaseCommand

from accounts.services import super_admin_token_ensure


class Command(BaseCommand):
    help = "Ensure the super-admin account and an all-permission access token exist; print the token last."

    def handle(self, *args, **options):
        token = super_admin_token_ensure()
        self.stdout.write(f"Super-admin account id: {token.account_id}")
        self.stdout.write(token.token)
