from django.urls import path

from carenet.matching import views, views_watch

app_name = "matching"
urlpatterns = [
    path("", views.datasets, name="datasets"),
    path("loads/<int:pk>/", views.load_detail, name="load"),
    path("sources/<int:pk>/mapping/<int:upload>/", views.mapping, name="mapping"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("recoveries/", views.recoveries, name="recoveries"),
    path("review/", views.review, name="review"),
    path("risk/", views_watch.risk_list, name="risk"),
    path("risk/<int:pk>/", views_watch.alert_detail, name="alert"),
    path("screens/", views_watch.screens_page, name="screens"),
    path("screens/<int:pk>/", views_watch.discovery_detail, name="discovery"),
]
