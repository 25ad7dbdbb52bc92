from django.urls import path

from carenet.homecare import views, views_community, views_manage

app_name = "homecare"

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("orders.xlsx", views.order_export, name="orders_export"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order_action"),
    path("inbound/", views.inbound, name="inbound"),
    path("m/", views.phone_tasks, name="phone"),
    path("m/<int:pk>/", views.phone_task, name="phone_task"),
    path("m/<int:pk>/act/", views.phone_act, name="phone_act"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("anomalies/", views.anomaly_list, name="anomalies"),
    path("anomalies.xlsx", views.anomaly_export, name="anomalies_export"),
    path("anomalies/<int:pk>/decide/", views.anomaly_decide, name="anomaly_decide"),
    path("settlement/", views.settlement, name="settlement"),
    path("settlement/<int:pk>/", views.settlement_run, name="settlement_run"),
    path("settlement/<int:pk>/statement.xlsx", views.statement_export, name="statement"),
    path("figures/", views_community.figures, name="figures"),
    path("followups/", views_community.followups, name="followups"),
    path("plans/", views_community.plans, name="plans"),
    path("visits/", views_community.visits, name="visits"),
    path("visits/<int:pk>/", views_community.visit_record, name="visit_record"),
    path("absences/", views_community.absences, name="absences"),
    path("meals/", views_community.meals, name="meals"),
    path("meals/settlement/<int:pk>/", views_community.meal_run, name="meal_run"),
    path("pairing/", views_community.pairings, name="pairings"),
    path("projects/", views_community.projects, name="projects"),
    path("providers/", views_manage.providers, name="providers"),
    path("providers/new/", views_manage.provider_edit, name="provider_new"),
    path("providers/<int:pk>/", views_manage.provider_edit, name="provider"),
    path("helpers/", views_manage.helpers, name="helpers"),
    path("helpers/new/", views_manage.helper_edit, name="helper_new"),
    path("helpers/<int:pk>/", views_manage.helper_edit, name="helper"),
    path("service-types/", views_manage.service_types, name="service_types"),
    path("service-types/new/", views_manage.service_type_edit, name="service_type_new"),
    path("service-types/<int:pk>/", views_manage.service_type_edit, name="service_type"),
]
