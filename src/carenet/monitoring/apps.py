from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "carenet.monitoring"
    label = "monitoring"

    def ready(self):
        # registers the fast ingest path in ingest.PATHS (ingest.py cannot import it: fastpath builds on ingest)
        from carenet.monitoring import fastpath  # noqa: F401
