from django.apps import AppConfig


class CallFlowLogicConfig(AppConfig):
    name = "call_flow_logic"

    def ready(self):
        # registers the recording tasks with Celery (phone_calls.tasks belongs to the dialler)
        from phone_calls import recording_tasks  # noqa: F401
