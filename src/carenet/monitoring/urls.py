from django.urls import path

from carenet.monitoring import views

urlpatterns = [
    path("", views.alarm_list, name="monitoring_alarms"),
    path("quarantine/", views.quarantine, name="monitoring_quarantine"),
    path("devices/", views.device_list, name="monitoring_devices"),
    path("elders/<int:pk>/rules/", views.elder_rules, name="monitoring_elder_rules"),
    path("elders/<int:pk>/devices/new/", views.register_device, name="monitoring_register_device"),
]
