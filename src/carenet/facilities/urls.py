from django.urls import path

from carenet.facilities import views, views_admin

app_name = "facilities"
urlpatterns = [
    path("", views.facility_list, name="list"),
    path("new/", views.propose_new, name="propose_new"),
    path("changes/", views.changes, name="changes"),
    path("changes/<int:pk>/decide/", views.decide, name="decide"),
    path("console/", views.console, name="console_home"),
    path("<int:pk>/", views.facility_detail, name="detail"),
    path("<int:pk>/edit/", views.propose_edit, name="propose_edit"),
    path("<int:pk>/status/", views.propose_status, name="propose_status"),
    path("<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("<int:pk>/inspect/", views.inspect, name="inspect"),
    path("<int:pk>/console/", views.console, name="console"),
    path("<int:pk>/admit/", views.admit, name="admit"),
    path("<int:pk>/staff/", views.add_staff, name="add_staff"),
    path("stays/<int:pk>/discharge/", views.discharge, name="discharge"),
    path("findings/<int:pk>/", views.finding_step, name="finding_step"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("subsidy-rules/", views_admin.subsidy_rules, name="subsidy_rules"),
    path("staff/<int:pk>/edit/", views_admin.staff_edit, name="staff_edit"),
    path("complaints/", views_admin.complaints, name="complaints"),
    path("complaints/<int:pk>/", views_admin.complaint, name="complaint"),
    path("complaints/<int:pk>/step/", views_admin.complaint_step, name="complaint_step"),
]
