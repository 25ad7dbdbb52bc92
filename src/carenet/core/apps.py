from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "carenet.core"
    label = "core"
    verbose_name = "CareNet core"

    def ready(self):
        from carenet.core.auth import connect_signals

        connect_signals()
