from django.urls import path

from carenet.policy import views

app_name = "policy"

urlpatterns = [
    path("", views.public_search, name="public"),
    path("staff/", views.staff_search, name="staff"),
    path("article/<str:article_id>/", views.article_detail, name="article"),
    path("qa/", views.qa_list, name="qa_list"),
    path("qa/new/", views.qa_edit, name="qa_new"),
    path("qa/<int:pk>/edit/", views.qa_edit, name="qa_edit"),
    path("qa/<int:pk>/publish/", views.qa_publish, name="qa_publish"),
    path("api/search", views.api_search, name="api_search"),
]
