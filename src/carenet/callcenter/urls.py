from django.urls import path

from carenet.callcenter import badge, views

app_name = "callcenter"

urlpatterns = [
    path("", views.console, name="console"),
    path("queue.json", views.queue_json, name="queue"),
    path("badge.json", badge.badge_json, name="badge"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm"),
    path("alarms/<int:pk>/claim/", views.claim, name="claim"),
    path("alarms/<int:pk>/<slug:action>/", views.alarm_action, name="action"),
    path("care/", views.care, name="care"),
    path("kpis/", views.kpis, name="kpis"),
    path("kpis/export.xlsx", views.kpis_export, name="kpis_export"),
]
