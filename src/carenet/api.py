"""The JSON API (django-ninja). Apps add their routers here."""
from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI
from ninja.security import django_auth

from carenet.monitoring.api import router as devices_router
from carenet.people.api import router as people_router

# The docs and the schema need a login (staff only) and use Swagger UI shipped inside django-ninja (ninja is in
# INSTALLED_APPS, so its local template and static files are used, not the CDN one).
api = NinjaAPI(title="CareNet API", version="1", auth=django_auth, urls_namespace="api",
               docs_decorator=login_required)
api.add_router("/people/", people_router)
api.add_router("/devices/", devices_router)
