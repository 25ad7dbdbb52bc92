"""The demo accounts offered on the login page (only when settings.DEMO is on)."""
from django.conf import settings

from carenet.core.roles import Role


def demo_logins():
    if not settings.DEMO:
        return []
    from carenet.core.models import User
    from carenet.demo.loader import DEMO_PASSWORD, DEMO_USERNAMES

    labels = dict(Role.CHOICES)
    users = list(User.objects.filter(username__in=DEMO_USERNAMES).select_related("division"))
    # one login per department of the civic registry (seed_civic): dept_d01, dept_d02, …
    users += list(User.objects.filter(role=Role.DEPARTMENT, username__startswith="dept_").select_related("division")
                  .order_by("username")[:30])
    return [{"username": u.username, "role": labels.get(u.role, u.role),
             "area": (u.first_name if u.role == Role.DEPARTMENT else "") or (u.division.name if u.division else ""),
             "password": DEMO_PASSWORD} for u in users]
