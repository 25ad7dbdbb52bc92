from django.apps import AppConfig


class CallcenterConfig(AppConfig):
    name = "carenet.callcenter"
    label = "callcenter"

    def ready(self):
        from carenet.callcenter import elder_file
        from carenet.people import file_sections

        file_sections.register(elder_file.alarms)
