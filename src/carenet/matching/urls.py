from django.urls import path

from carenet.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.datasets, name="datasets"),
    path("loads/<int:pk>/", views.load_detail, name="load"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("recoveries/", views.recoveries, name="recoveries"),
    path("review/", views.review, name="review"),
]
