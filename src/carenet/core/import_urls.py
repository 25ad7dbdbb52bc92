from django.urls import path

from carenet.core import import_views as v

urlpatterns = [
    path("", v.index, name="import_index"),
    path("runs/<int:pk>/rejected.xlsx", v.report, name="import_report_file"),
    path("<str:key>/", v.upload, name="import_upload"),
    path("<str:key>/template.xlsx", v.template, name="import_template_file"),
    path("<str:key>/<int:pk>/", v.preview, name="import_preview"),
    path("<str:key>/<int:pk>/mapping/", v.save_mapping, name="import_save_mapping"),
    path("<str:key>/<int:pk>/confirm/", v.confirm, name="import_confirm"),
    path("<str:key>/<int:pk>/discard/", v.discard, name="import_discard"),
    path("<str:key>/runs/<int:pk>/", v.result, name="import_result"),
]
