from django.urls import path

from carenet.supervision import views

app_name = "supervision"
urlpatterns = [
    path("supervision/", views.home, name="home"),
    path("supervision/export.xlsx", views.export, name="export"),
    path("supervision/facilities/<int:pk>/", views.facility, name="facility"),
    path("supervision/provider/", views.provider, name="provider"),
    path("bigscreen/", views.bigscreen, name="bigscreen"),
    path("bigscreen/data.json", views.bigscreen_data, name="bigscreen_data"),
]
