"""Roles and what each may do. One table, read by views, selectors and templates."""
from django.utils.translation import gettext_lazy as _


class Role:
    DISTRICT_ADMIN = "district_admin"
    APPROVER = "approver"
    REVIEWER = "reviewer"
    WORKER = "worker"
    OPERATOR = "operator"
    HELPER = "helper"
    SUPERVISOR = "supervisor"
    EVALUATOR = "evaluator"
    DEPARTMENT = "department"

    CHOICES = [
        (DISTRICT_ADMIN, _("District administrator")),
        (APPROVER, _("District approver")),
        (REVIEWER, _("Township reviewer")),
        (WORKER, _("Community / grid worker")),
        (OPERATOR, _("Call-center operator")),
        (HELPER, _("Helper / provider staff")),
        (SUPERVISOR, _("Supervisor / auditor")),
        (EVALUATOR, _("Facility evaluator (third party)")),
        (DEPARTMENT, _("Department staff (convenience services)")),
    ]


# Capabilities per role. Anything not listed is refused.
CAPABILITIES = {
    Role.DISTRICT_ADMIN: {"people.view", "people.edit", "people.import", "people.export", "id.full", "health.view", "audit.view", "users.manage",
                          "assistance.view", "assistance.payroll"},
    Role.APPROVER: {"people.view", "people.export", "id.full", "health.view",
                     "assistance.view", "assistance.approve", "assistance.payroll"},
    Role.REVIEWER: {"people.view", "people.edit", "people.export", "id.full", "health.view",
                     "assistance.view", "assistance.intake", "assistance.survey", "assistance.review"},
    Role.WORKER: {"people.view", "people.edit", "people.import", "people.export", "id.full", "health.view",
                   "assistance.view", "assistance.intake", "assistance.survey"},
    Role.OPERATOR: {"people.view", "health.view"},
    Role.HELPER: {"people.view"},
    Role.SUPERVISOR: {"people.view", "people.export", "health.view", "audit.view", "assistance.view"},
    Role.EVALUATOR: set(),
    # A department's own login (民政、医保、人社…, civic.Department): sees and handles only the convenience-service
    # requests routed to its department (civic.selectors narrows every read; civic.services checks every act).
    Role.DEPARTMENT: {"civic.view", "civic.handle"},
}


def can(user, capability: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return capability in CAPABILITIES.get(user.role, set())


# Home monitoring and the call center.
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR):
    CAPABILITIES[_role] |= {"alarms.view", "alarms.handle", "devices.view", "devices.manage"}
for _role in (Role.WORKER, Role.REVIEWER, Role.SUPERVISOR, Role.APPROVER):
    CAPABILITIES[_role] |= {"alarms.view", "devices.view"}
# Registered absences (外出报备): the call center (families phone in) and community workers record them.
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR, Role.WORKER):
    CAPABILITIES[_role] |= {"monitoring.away"}

# Call-center console (callcenter app): the queue and handling screens, online-service records, KPIs.
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR):
    CAPABILITIES[_role] |= {"callcenter.console", "callcenter.services", "callcenter.kpis"}
for _role in (Role.SUPERVISOR, Role.APPROVER):
    CAPABILITIES[_role] |= {"callcenter.kpis"}

# Where a role lands after login when its work is not the overview page (URL names; core imports no app).
HOME_URL = {
    Role.OPERATOR: "callcenter:console",
}

# Social assistance decisions (approve, reject, pay first aid, change payments): district approvers, and
# township reviewers when approval is delegated (the workflow engine decides which applies to a case).
for _role in (Role.APPROVER, Role.REVIEWER):
    CAPABILITIES[_role] |= {"assistance.decide"}

# Policy Q&A: any signed-in staff member may search; front-line and review staff draft curated answers;
# district staff publish them.
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER):
    CAPABILITIES[_role] |= {"policy.edit"}
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER):
    CAPABILITIES[_role] |= {"policy.publish"}

# Residents' requests and convenience services (civic app): view, apply on a resident's behalf, handle
# service requests, run the seven steps (七单) and the council vote, publish on the public page, edit the
# district's catalogue, figures and the 民情账本 export.
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER, Role.OPERATOR, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {"civic.view"}
for _role in (Role.WORKER, Role.REVIEWER, Role.OPERATOR):
    CAPABILITIES[_role] |= {"civic.apply"}
for _role in (Role.WORKER, Role.REVIEWER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"civic.handle", "civic.community"}
for _role in (Role.REVIEWER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"civic.publish"}
for _role in (Role.DISTRICT_ADMIN,):
    CAPABILITIES[_role] |= {"civic.catalogue"}
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {"civic.figures"}
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {"civic.export"}

# Facilities (facilities app): streets propose, the district approves (maker != checker, checked in services);
# third-party evaluators score; inspections by street and district staff; facility staff rectify and watch their
# rooms. Supervision center and big screen (supervision app): read-only.
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER, Role.SUPERVISOR, Role.HELPER,
              Role.EVALUATOR):
    CAPABILITIES[_role] |= {"facilities.view"}
for _role in (Role.REVIEWER, Role.WORKER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"facilities.propose"}
for _role in (Role.APPROVER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"facilities.approve"}
CAPABILITIES[Role.EVALUATOR] |= {"facilities.evaluate"}
for _role in (Role.REVIEWER, Role.APPROVER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"facilities.inspect"}
for _role in (Role.HELPER, Role.DISTRICT_ADMIN, Role.REVIEWER):
    CAPABILITIES[_role] |= {"facilities.rectify", "facilities.staff"}
for _role in (Role.HELPER, Role.DISTRICT_ADMIN, Role.OPERATOR):
    CAPABILITIES[_role] |= {"facilities.console"}
# Complaints about facilities: the call center, community and street staff take them in; street reviewers and
# district staff route, answer and close them.
for _role in (Role.OPERATOR, Role.WORKER, Role.REVIEWER, Role.APPROVER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"facilities.complaints"}
for _role in (Role.REVIEWER, Role.APPROVER, Role.DISTRICT_ADMIN):
    CAPABILITIES[_role] |= {"facilities.complaints_handle"}
for _role in (Role.SUPERVISOR, Role.DISTRICT_ADMIN, Role.APPROVER):
    CAPABILITIES[_role] |= {"supervision.view", "supervision.export", "bigscreen.view"}
for _role in (Role.OPERATOR, Role.REVIEWER):  # the call center and a street see their own area on the screen
    CAPABILITIES[_role] |= {"bigscreen.view"}

# Cross-department checks (matching app): department loads, integrity findings, recoveries.
# Reviewers investigate; approvers decide (confirm or dismiss) and so open re-checks from a finding.
for _role in (Role.DISTRICT_ADMIN, Role.REVIEWER, Role.APPROVER, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {"matching.view"}
for _role in (Role.DISTRICT_ADMIN, Role.REVIEWER):
    CAPABILITIES[_role] |= {"matching.load", "matching.investigate"}
CAPABILITIES[Role.APPROVER] |= {"matching.decide", "assistance.integrity"}
# Dynamic monitoring and targeted discovery: the community worker visits and follows up (and sees the risk and
# discovery pages of their area); townships and the district also run the saved screens.
for _role in (Role.DISTRICT_ADMIN, Role.REVIEWER, Role.WORKER):
    CAPABILITIES[_role] |= {"matching.monitor"}
for _role in (Role.DISTRICT_ADMIN, Role.REVIEWER):
    CAPABILITIES[_role] |= {"matching.screen"}

# Home-care services (homecare app). A helper sees only their own tasks and a provider's office staff only
# the provider's orders (homecare.selectors narrows HELPER-role users further); community workers their area;
# operators create and dispatch orders; supervisors read, with the anomalies.
CAPABILITIES[Role.HELPER] |= {"homecare.view", "homecare.work"}
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR, Role.WORKER, Role.REVIEWER, Role.APPROVER, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {"homecare.view"}
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR, Role.WORKER):
    CAPABILITIES[_role] |= {"homecare.order"}
for _role in (Role.DISTRICT_ADMIN, Role.OPERATOR):
    CAPABILITIES[_role] |= {"homecare.dispatch", "homecare.followup"}
for _role in (Role.DISTRICT_ADMIN, Role.SUPERVISOR, Role.APPROVER):
    CAPABILITIES[_role] |= {"homecare.anomalies", "homecare.statements"}
CAPABILITIES[Role.DISTRICT_ADMIN] |= {"homecare.settle", "homecare.manage", "homecare.resolve"}
CAPABILITIES[Role.WORKER] |= {"homecare.visit", "homecare.meals"}
CAPABILITIES[Role.REVIEWER] |= {"homecare.visit"}
CAPABILITIES[Role.DISTRICT_ADMIN] |= {"homecare.visit", "homecare.meals"}

# Near-relative declarations (近亲属备案): staff who act on assistance cases; not the read-only supervisor.
for _role in (Role.DISTRICT_ADMIN, Role.APPROVER, Role.REVIEWER, Role.WORKER):
    CAPABILITIES[_role] |= {"assistance.declare"}
