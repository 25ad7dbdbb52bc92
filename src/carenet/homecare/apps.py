from django.apps import AppConfig


class HomecareConfig(AppConfig):
    name = "carenet.homecare"
    verbose_name = "Home-care services"

    def ready(self):
        from carenet.homecare import elder_file
        from carenet.people import file_sections

        file_sections.register(elder_file.services)
        file_sections.register(elder_file.visits)

        from carenet.core import todo
        from carenet.homecare import todo as homecare_todo
        todo.register(homecare_todo.items_for)  # the home page's to-do list

        from carenet.core import imports
        from carenet.homecare.imports import HelperImporter, ProviderImporter
        imports.register(ProviderImporter())  # /imports/homecare.providers/ (docs/import.md)
        imports.register(HelperImporter())    # /imports/homecare.helpers/
