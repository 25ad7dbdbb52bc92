from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "carenet.assistance"
    label = "assistance"

    def ready(self):
        from carenet.assistance import todo as assistance_todo
        from carenet.core import todo

        todo.register(assistance_todo.items_for)

        from carenet.assistance import elder_file
        from carenet.people import file_sections

        file_sections.register(elder_file.cases)
