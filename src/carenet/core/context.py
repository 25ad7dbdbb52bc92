from django.conf import settings

from carenet.core.roles import CAPABILITIES


def carenet(request):
    user = getattr(request, "user", None)
    caps = set()
    if user is not None and user.is_authenticated:
        caps = set().union(*CAPABILITIES.values()) if user.is_superuser else CAPABILITIES.get(user.role, set())
    from carenet.core.imports import available
    return {"caps": caps, "DEMO": settings.DEMO, "can_import": bool(caps) and bool(available(caps))}
