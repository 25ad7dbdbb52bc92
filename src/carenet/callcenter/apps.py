from django.apps import AppConfig


class CallcenterConfig(AppConfig):
    name = "carenet.callcenter"
    label = "callcenter"
