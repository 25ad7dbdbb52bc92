from django.urls import path

from carenet.assistance import views, views_print

app_name = "assistance"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/print/", views_print.case_print, name="case_print"),
    path("cases/<int:pk>/<slug:action>/", views.case_action, name="action"),
    path("residents/", views.resident_search, name="resident_search"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("report/", views.report, name="report"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/<slug:action>/", views.report_action, name="report_action"),
    path("notice/", views.notice, name="notice"),
    path("notice.xlsx", views.notice_export, name="notice_export"),
    path("payroll/", views.payroll, name="payroll"),
    path("payroll/<int:pk>/", views.run_detail, name="run"),
    path("payroll/<int:pk>/print/", views_print.run_print, name="run_print"),
    path("payroll/<int:pk>/resume/", views.run_resume, name="run_resume"),
    path("payroll/<int:pk>/bank.<str:fmt>", views.bank_file, name="bank_file"),
    path("ledger/", views.ledger, name="ledger"),
    path("figures/", views.figures, name="figures"),
    path("standards/", views.standards, name="standards"),
    path("relatives/", views.relatives, name="relatives"),
    path("referrals/", views.referrals, name="referrals"),
]
