from django.apps import AppConfig


class BatchOperationsConfig(AppConfig):
    name = "batch_operations"
