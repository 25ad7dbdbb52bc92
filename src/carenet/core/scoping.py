"""Jurisdiction: the one rule that limits every read of people data to the user's division subtree."""
from django.db import models
from django.db.models import Q, QuerySet


def subtree_q(path: str, field: str = "division__path") -> Q:
    """`field` (a materialised division path) is `path` itself or lies below it."""
    return Q(**{field: path}) | Q(**{f"{field}__startswith": path + "/"})


def user_subtree_q(user, path_field: str) -> Q:
    """`path_field` lies in the user's subtree (everything for a superuser, nothing without a division)."""
    if user.is_superuser:
        return Q()
    if not user.is_authenticated or user.division_id is None:
        return Q(pk__in=[])
    return subtree_q(user.division.path, path_field)


def division_q(user, field: str = "division") -> Q:
    """A filter matching records whose `field` (a Division FK) lies in the user's subtree."""
    return user_subtree_q(user, f"{field}__path")


def visible_to(user, queryset: QuerySet, field: str = "division") -> QuerySet:
    return queryset.filter(division_q(user, field))


def path_visible_to(user, path: str) -> bool:
    if user.is_superuser:
        return True
    if not user.is_authenticated or user.division_id is None:
        return False
    own = user.division.path
    return path == own or path.startswith(own + "/")


class ScopedQuerySet(QuerySet):
    """`Model.objects.visible_to(user)`: only rows in the user's division subtree.

    A model opts in with `objects = ScopedManager()` and a class attribute `scope_path`, the lookup from the
    model to a division's materialised path (e.g. "division__path", "elder__resident__division__path").
    District-wide reads (duplicate checks) are separate, named, audited functions, never this.
    """

    def visible_to(self, user) -> "ScopedQuerySet":
        return self.filter(user_subtree_q(user, self.model.scope_path))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    pass
