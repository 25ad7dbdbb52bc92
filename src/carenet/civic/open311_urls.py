from django.urls import path, re_path

from carenet.civic import open311

urlpatterns = [
    path("discovery.json", open311.discovery, name="open311_discovery"),
    re_path(r"^v2/services\.(?P<fmt>\w+)$", open311.services_list, name="open311_services"),
    re_path(r"^v2/services/(?P<code>[\w-]+)\.(?P<fmt>\w+)$", open311.service_definition, name="open311_service"),
    re_path(r"^v2/requests\.(?P<fmt>\w+)$", open311.requests_endpoint, name="open311_requests"),
    re_path(r"^v2/requests/(?P<pk>\d+)\.(?P<fmt>\w+)$", open311.request_detail, name="open311_request"),
    re_path(r"^v2/tokens/(?P<token>[\w-]+)\.(?P<fmt>json|xml)$", open311.token_lookup, name="open311_token"),
    re_path(r"^v2/media/(?P<sig>[\w-]+)$", open311.media, name="open311_media"),
]
