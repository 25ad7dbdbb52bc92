"""The department registry (部门): departments that handle convenience-service items, with their own logins.

Requests are routed to a department record (`ServiceRequest.department`); a department login (role `department`,
`DepartmentMember`) sees and handles only the requests routed to its department. Writes are atomic and audited.
"""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from carenet.civic import models as m
from carenet.civic.access import CivicServiceError
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area
from carenet.core.roles import Role


class DepartmentError(CivicServiceError):
    """A refused department action, with a message for staff."""


DEPARTMENT_ACTIONS = {"request_docs", "complete", "refuse"}


def check_user(user, req: m.ServiceRequest, action: str) -> None:
    """A department login acts only on requests routed to its own department, and only to handle them (ask for
    documents, complete, refuse); routing and reopening stay with the township and community."""
    if getattr(user, "role", None) != Role.DEPARTMENT or user.is_superuser:
        return
    member = m.DepartmentMember.objects.filter(user=user).first()
    if member is None or req.department_id != member.department_id:
        raise DepartmentError(_("This request is not routed to your department."))
    if action not in DEPARTMENT_ACTIONS:
        raise DepartmentError(_("A department asks for documents, completes or refuses; the township routes."))


def route_target(req: m.ServiceRequest, data: dict) -> m.Department | None:
    """Route to a department record (`data["department"]`), to a named township or community office (`data["to"]`,
    handled by the area's own staff), or by default to the item's responsible department."""
    dept_id = str(data.get("department") or "").strip()
    if dept_id:
        dept = m.Department.objects.filter(pk=dept_id if dept_id.isdigit() else 0, active=True).first()
        if dept is None:
            raise DepartmentError(_("Choose an active department."))
        return dept
    if str(data.get("to", "")).strip():
        return None
    return req.item.unit if req.item.unit_id and req.item.unit.active else None


@transaction.atomic
def save_department(user, dept: m.Department) -> m.Department:
    require(user, "civic.catalogue")
    require_in_area(user, dept.division)
    dept.name, dept.code = dept.name.strip()[:60], dept.code.strip()[:20]
    if not dept.name or not dept.code:
        raise DepartmentError(_("A department needs a code and a name."))
    if m.Department.objects.filter(code=dept.code).exclude(pk=dept.pk).exists():
        raise DepartmentError(_("Another department has this code."))
    created = dept.pk is None
    dept.save()
    link_items_to_departments()
    audit.record(AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE, dept, actor=user,
                 after=audit.snapshot(dept), division_path=dept.division.path, note="civic.department")
    return dept


@transaction.atomic
def add_department_member(user, dept: m.Department, member) -> m.DepartmentMember:
    """Give a login (role `department`) to a department: it then sees and handles that department's requests."""
    require(user, "civic.catalogue")
    require_in_area(user, dept.division)
    if getattr(member, "role", None) != Role.DEPARTMENT:
        raise DepartmentError(_("Only a department login can work for a department."))
    require_in_area(user, member.division)
    row, _created = m.DepartmentMember.objects.update_or_create(user=member, defaults={"department": dept})
    audit.record(AuditLog.Action.UPDATE, row, actor=user, after={"department": dept.pk, "user": member.pk},
                 division_path=dept.division.path, note="civic.department member")
    return row


def link_items_to_departments() -> int:
    """Catalogue items whose department name is a registered department get it as their responsible unit."""
    n = 0
    for dept in m.Department.objects.filter(active=True):
        n += m.ServiceItem.objects.filter(department=dept.name).exclude(unit=dept).update(unit=dept)
    return n


LOCAL_OFFICES = ("乡镇（街道）", "村（社区）")   # township and community offices: handled by the area's own staff


@transaction.atomic
def ensure_departments(district) -> list[m.Department]:
    """The demo's and a fresh district's registry: one department per district-level department named in the
    catalogue (township and community offices are the area's own staff), then link the items to them."""
    names = sorted({n for n in m.ServiceItem.objects.values_list("department", flat=True)
                    if n and not n.startswith(LOCAL_OFFICES)})
    out = []
    for i, name in enumerate(names, 1):
        dept = m.Department.objects.filter(division=district, name=name).first()
        if dept is None:
            code = f"D{i:02d}"
            while m.Department.objects.filter(code=code).exists():
                i += 100
                code = f"D{i:02d}"
            dept = m.Department.objects.create(code=code, name=name, division=district)
            audit.record(AuditLog.Action.CREATE, dept, actor=None, after=audit.snapshot(dept),
                         division_path=district.path, note="civic.department seed")
        out.append(dept)
    link_items_to_departments()
    return out
