from django.conf import settings

from carenet.core.roles import CAPABILITIES


def carenet(request):
    user = getattr(request, "user", None)
    caps = set()
    if user is not None and user.is_authenticated:
        caps = set().union(*CAPABILITIES.values()) if user.is_superuser else CAPABILITIES.get(user.role, set())
    return {"caps": caps, "DEMO": settings.DEMO}
