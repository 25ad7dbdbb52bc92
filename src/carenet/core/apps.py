from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "carenet.core"
    label = "core"
    verbose_name = "CareNet core"
