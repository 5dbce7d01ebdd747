from django.apps import AppConfig


class ScfmConfig(AppConfig):
    name = "scfm"
    verbose_name = "SCFM"

    def ready(self):
        from django.db.backends.signals import connection_created

        from .db import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)
