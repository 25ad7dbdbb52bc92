from django.urls import path

from carenet.people import views

urlpatterns = [
    path("elders/", views.elder_list, name="elder_list"),
    path("elders/new/", views.elder_edit, name="elder_create"),
    path("elders/export.xlsx", views.elder_export, name="elder_export"),
    path("elders/import/", views.elder_import, name="elder_import"),
    path("elders/import/template.xlsx", views.import_template, name="import_template"),
    path("elders/import/<int:pk>/rejected.xlsx", views.import_report, name="import_report"),
    path("elders/<int:pk>/", views.elder_detail, name="elder_detail"),
    path("elders/<int:pk>/edit/", views.elder_edit, name="elder_edit"),
    path("elders/<int:pk>/reveal-id/", views.reveal_id, name="reveal_id"),
]
