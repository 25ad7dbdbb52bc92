from django.apps import AppConfig


class HomecareConfig(AppConfig):
    name = "carenet.homecare"
    verbose_name = "Home-care services"
