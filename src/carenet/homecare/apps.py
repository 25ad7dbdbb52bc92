from django.apps import AppConfig


class HomecareConfig(AppConfig):
    name = "carenet.homecare"
    verbose_name = "Home-care services"

    def ready(self):
        from carenet.homecare import elder_file
        from carenet.people import file_sections

        file_sections.register(elder_file.services)
        file_sections.register(elder_file.visits)
