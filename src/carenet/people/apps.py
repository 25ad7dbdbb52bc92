from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "carenet.people"
    label = "people"
    verbose_name = "People"

    def ready(self):
        from carenet.core import imports
        from carenet.people.importers import ElderImporter

        imports.register(ElderImporter())
