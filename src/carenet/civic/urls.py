from django.urls import path

from carenet.civic import views, views_more

app_name = "civic"

urlpatterns = [
    path("", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/<slug:action>/", views.request_act, name="request_act"),
    path("apply/", views.apply_for, name="apply"),
    path("access/", views.home_access, name="access"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/new/", views.catalogue_edit, name="catalogue_new"),
    path("catalogue/<int:pk>/", views.catalogue_edit, name="catalogue_edit"),
    path("community/", views.community_list, name="community_list"),
    path("community/new/", views.community_new, name="community_new"),
    path("community/<int:pk>/", views.community_detail, name="community"),
    path("community/<int:pk>/answer/", views.community_answer, name="community_answer"),
    path("community/<int:pk>/<slug:action>/", views.community_act, name="community_act"),
    path("wishes/", views.wishes, name="wishes"),
    path("wishes/<int:pk>/<slug:action>/", views.wish_act, name="wish_act"),
    path("figures/", views.figures, name="figures"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger.xlsx", views.ledger_export, name="ledger_export"),
    # the resident's own pages (home terminal or phone) and the public 晒单 page: no staff login
    path("home/", views.home, name="home"),
    path("home/login/", views.home_login, name="home_login"),
    path("home/logout/", views.home_logout, name="home_logout"),
    path("home/items/", views.home_items, name="home_items"),
    path("home/apply/<str:code>/", views.home_apply, name="home_apply"),
    path("home/requests/<int:pk>/", views.home_request, name="home_request"),
    path("public/", views.public_list, name="public"),
    path("departments/", views_more.department_list, name="departments"),
    path("confirm/<str:token>/", views_more.resident_confirm_page, name="resident_confirm"),
    path("home/confirm/<int:pk>/", views_more.resident_confirm_home, name="resident_confirm_home"),
    path("public/<int:pk>/", views.public_detail, name="public_detail"),
]
