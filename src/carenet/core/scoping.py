"""Jurisdiction: the one rule that limits every read of people data to the user's division subtree."""
from django.db.models import Q, QuerySet


def division_q(user, field: str = "division") -> Q:
    """A filter matching records whose `field` (a Division FK path) lies in the user's subtree."""
    if user.is_superuser:
        return Q()
    if not user.is_authenticated or user.division_id is None:
        return Q(pk__in=[])
    path = user.division.path
    return Q(**{f"{field}__path": path}) | Q(**{f"{field}__path__startswith": path + "/"})


def visible_to(user, queryset: QuerySet, field: str = "division") -> QuerySet:
    return queryset.filter(division_q(user, field))


def path_visible_to(user, path: str) -> bool:
    if user.is_superuser:
        return True
    if not user.is_authenticated or user.division_id is None:
        return False
    own = user.division.path
    return path == own or path.startswith(own + "/")
