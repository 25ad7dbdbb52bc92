from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "carenet.demo"
    label = "demo"
