"""Who may edit and publish curated policy answers.

The core role table (carenet.core.roles) has no policy capabilities yet, so
they are defined here. Any signed-in staff member may search; front-line and
review staff may draft answers; district staff publish them.
"""

from carenet.core.roles import Role

EDIT_ROLES = {Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER}
PUBLISH_ROLES = {Role.DISTRICT_ADMIN, Role.APPROVER}


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_edit(user) -> bool:
    return _active(user) and (user.is_superuser or getattr(user, "role", None) in EDIT_ROLES)


def can_publish(user) -> bool:
    return _active(user) and (user.is_superuser or getattr(user, "role", None) in PUBLISH_ROLES)
