from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "carenet.monitoring"
    label = "monitoring"
