"""Jurisdiction: the one rule that limits every read of people data to the user's division subtree.

The one entry point is the queryset: `Model.objects.visible_to(user)`. A model opts in with
`objects = ScopedManager()` and `scope_path`, the lookup from the model to a division's materialised path:

    class Visit(models.Model):
        order = models.ForeignKey(Order, ...)
        objects = ScopedManager()
        scope_path = "order__elder__resident__division__path"

District-wide reads (duplicate checks, near-relative declarations) never use it: they are separate functions
named `*_districtwide`, with a docstring saying why, and they write an audit row (see people/selectors.py).
`subtree_q(path)` narrows an already-scoped query to a sub-area (a report's area, a payroll run's area);
`path_visible_to` answers the yes/no question for one record and is what `permissions.require_in_area` uses.
"""
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


def path_visible_to(user, path: str) -> bool:
    """True when the division path lies in the user's subtree."""
    if user.is_superuser:
        return True
    if not user.is_authenticated or user.division_id is None:
        return False
    own = user.division.path
    return path == own or path.startswith(own + "/")


class ScopedQuerySet(QuerySet):
    """`Model.objects.visible_to(user)`: only rows in the user's division subtree (see the module docstring)."""

    def visible_to(self, user) -> "ScopedQuerySet":
        return self.filter(user_subtree_q(user, self.model.scope_path))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    pass
