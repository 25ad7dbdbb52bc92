from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "carenet.assistance"
    label = "assistance"
