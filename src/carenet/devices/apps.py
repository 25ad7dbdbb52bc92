from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "carenet.devices"
    label = "devices"
    verbose_name = "Devices"
