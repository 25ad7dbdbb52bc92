from django.urls import path

from carenet.monitoring import views

urlpatterns = [
    path("", views.alarm_list, name="monitoring_alarms"),
    path("quarantine/", views.quarantine, name="monitoring_quarantine"),
    path("devices/", views.device_list, name="monitoring_devices"),
    path("elders/<int:pk>/rules/", views.elder_rules, name="monitoring_elder_rules"),
    path("elders/<int:pk>/devices/new/", views.register_device, name="monitoring_register_device"),
    path("elders/<int:pk>/away/", views.register_away, name="monitoring_register_away"),
    path("elders/<int:pk>/away/<int:record>/end/", views.end_away, name="monitoring_end_away"),
]
