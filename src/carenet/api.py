"""The JSON API (django-ninja). Apps add their routers here."""
from ninja import NinjaAPI
from ninja.security import django_auth

from carenet.monitoring.api import router as devices_router
from carenet.people.api import router as people_router

api = NinjaAPI(title="CareNet API", version="1", auth=django_auth, urls_namespace="api")
api.add_router("/people/", people_router)
api.add_router("/devices/", devices_router)
