"""`manage.py i18n_catalogues [--check]` (`make messages`): update and compile the dashboard's catalogues with Babel
(dashboard/i18n.py); --check only reports what is missing or stale, exiting 1 if anything is."""

from django.core.management.base import BaseCommand, CommandError

from dashboard import i18n


class Command(BaseCommand):
    help = "Extract translatable strings, update dashboard/locale/*/LC_MESSAGES/django.po and compile django.mo."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report untranslated strings and stale .mo files")

    def handle(self, *args, check=False, **options):
        if check:
            problems = i18n.catalogue_problems()
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} problem(s) in the translation catalogues")
            self.stdout.write("catalogues complete")
            return
        for language, missing in i18n.update_catalogues().items():
            self.stdout.write(f"{language}: {missing} string(s) to translate in {i18n.po_path(language)}")
