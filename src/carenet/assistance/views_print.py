"""Print views (#18): a case file and a payroll summary on A4, for the paper file and signatures.

Read-only; each print leaves an EXPORT audit row (a printed file leaves the system like an export does).
ID numbers stay masked, as on the screen.
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.shortcuts import render
from django.utils import timezone

from carenet.assistance import selectors
from carenet.assistance import models as m
from carenet.assistance.views import _explanation
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import needs
from carenet.people.models import Resident


def _printed(request, obj, what: str) -> str:
    audit.record(AuditLog.Action.EXPORT, obj, actor=request.user, note=f"print {what}")
    return f"{timezone.localtime():%Y-%m-%d %H:%M}"


@needs("assistance.view")
def case_print(request, pk):
    case = selectors.get_case(request.user, pk)
    try:
        ent = case.entitlement
    except m.Entitlement.DoesNotExist:
        ent = None
    household = (Resident.objects.visible_to(request.user).filter(household_id=case.household_id)
                 if case.household_id else [])
    return render(request, "assistance/print_case.html", {
        "case": case, "household": household, "explanation": _explanation(case), "ent": ent,
        "history": case.history.select_related("actor"), "surveys": case.surveys.all(),
        "objections": case.notice_objections.all(),
        "ledger": ent.ledger.order_by("period", "run_month", "id") if ent else [],
        "printed_at": _printed(request, case, "case file"),
    })


@needs("assistance.view")
def run_print(request, pk):
    run = selectors.get_run(request.user, pk)
    lines = run.ledger_lines.all()
    programs = dict(m.Program.choices)
    kinds = dict(m.LedgerLine.Kind.choices)
    # one row per (township, program): the grouped query already gives each row once
    rows = [(township, programs.get(program, program), {"households": h, "persons": p or 0, "amount": a or Decimal("0")})
            for township, program, h, p, a in lines.values_list("township__name", "program").annotate(
                h=Count("entitlement", distinct=True), p=Sum("persons"), a=Sum("amount")).order_by("township__name", "program")]
    by_kind = [(kinds.get(k, k), n, a) for k, n, a in
               lines.values_list("kind").annotate(n=Count("id"), a=Sum("amount")).order_by("kind")]
    totals = lines.aggregate(households=Count("entitlement", distinct=True), persons=Sum("persons"), amount=Sum("amount"))
    return render(request, "assistance/print_run.html", {
        "run": run, "rows": rows, "by_kind": by_kind,
        "totals": totals, "printed_at": _printed(request, run, "payroll summary"),
    })
