from django.apps import AppConfig


class CallFlowLogicConfig(AppConfig):
    name = "call_flow_logic"
