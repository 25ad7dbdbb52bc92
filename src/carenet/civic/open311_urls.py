from django.urls import path, re_path

from carenet.civic import open311

urlpatterns = [
    path("discovery.json", open311.discovery, name="open311_discovery"),
    re_path(r"^v2/services\.(?P<fmt>\w+)$", open311.services_list, name="open311_services"),
    re_path(r"^v2/services/(?P<code>[\w-]+)\.(?P<fmt>\w+)$", open311.service_definition, name="open311_service"),
    re_path(r"^v2/requests\.(?P<fmt>\w+)$", open311.requests_endpoint, name="open311_requests"),
    re_path(r"^v2/requests/(?P<pk>\d+)\.(?P<fmt>\w+)$", open311.request_detail, name="open311_request"),
]
