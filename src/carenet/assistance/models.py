"""Social assistance (社会救助) persistence.

The arithmetic and the rules live in the pure engine (``carenet.assistance.engine``);
these tables store its inputs and what it returns (docs/assistance-rules.md §9):

* ``Standard``          dated rule rows (append-only) that feed ``engine.rules.RuleSet``;
* ``Case``              one application with the snapshot fields the workflow engine needs;
* ``CaseHistory``       append-only transitions (actor, time, reason, data);
* ``SurveyRecord``      home-visit notes, household economic facts, photos;
* ``NoticeObjection``   objections raised during the public notice (公示);
* ``NearRelativeDeclaration``  staff ↔ resident (近亲属备案);
* ``Referral``          a report routed to another department, tracked;
* ``Entitlement`` + ``EntitlementChange``  what is owed per month (engine ``Entitlement``/``AmountChange``);
* ``LedgerLine``        append-only paid lines, unique per engine ``LedgerLine.key``;
* ``PayrollRun``        a monthly payroll job with status, progress and log.

All writes go through ``services.py``.
"""
from __future__ import annotations

import datetime as dt


from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
# the one media store lives in core; re-exported (migrations record carenet.assistance.models.MediaStorage)
from carenet.core.media import MediaStorage, media_storage  # noqa: F401
from carenet.core.models import Division
from carenet.people.models import Household, Resident
from carenet.core.scoping import ScopedManager





def _storage():
    return media_storage


class Program(models.TextChoices):
    DIBAO_URBAN = erules.DIBAO_URBAN, _("Urban minimum living allowance (城市低保)")
    DIBAO_RURAL = erules.DIBAO_RURAL, _("Rural minimum living allowance (农村低保)")
    MARGINAL = erules.MARGINAL, _("Marginal family (低保边缘)")
    TEKUN = erules.TEKUN, _("Extreme poverty support (特困供养)")
    TEMP_AID = erules.TEMP_AID, _("Temporary aid (临时救助)")
    ELDERLY = erules.ELDERLY, _("Old-age allowance (高龄津贴)")
    WARM_FUND = erules.WARM_FUND, _("Community emergency fund (暖心基金)")


PROGRAM_CHOICES_WITH_ANY = [(erules.ANY_PROGRAM, _("All programs (*)"))] + list(Program.choices)
ONE_OFF_PROGRAMS = {erules.TEMP_AID, erules.WARM_FUND}
STATUS_ONLY_PROGRAMS = {erules.MARGINAL}  # a status for special assistance; nothing is paid
PERSON_PROGRAMS = {erules.TEKUN, erules.ELDERLY}  # the beneficiary is a person, not a household


class Standard(models.Model):
    """One dated rule row. Append-only: a change is a new row with a later ``effective_from``."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("division"))
    program = models.CharField(_("program"), max_length=20, choices=PROGRAM_CHOICES_WITH_ANY)
    key = models.CharField(_("key"), max_length=40, choices=[(k, k) for k in erules.KEY_TYPES])
    value = models.JSONField(_("value"), null=True)
    effective_from = models.DateField(_("effective from"))
    source = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("standard")
        ordering = ["key", "program", "effective_from"]
        constraints = [models.UniqueConstraint(fields=["division", "program", "key", "effective_from"],
                                               name="assistance_standard_unique")]

    def __str__(self):
        return f"{self.key}[{self.program}] {self.value} @{self.division.code} from {self.effective_from}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("standards are append-only: add a row with a later effective_from")
        super().save(*args, **kwargs)

    def to_engine(self) -> erules.Standard:
        return erules.Standard(self.division.code, self.program, self.key, erules.decode_value(self.key, self.value),
                               self.effective_from, self.source)


class Channel(models.TextChoices):
    WINDOW = "window", _("At the window")
    COMMUNITY = "community", _("Through a community worker")
    GRID = "grid", _("Grid worker report (主动发现)")


class State(models.TextChoices):
    ACCEPTED = ewf.ACCEPTED, _("Accepted (受理)")
    SURVEYED = ewf.SURVEYED, _("Surveyed (入户调查)")
    REVIEWED = ewf.REVIEWED, _("Reviewed (审核)")
    IN_NOTICE = ewf.IN_NOTICE, _("Public notice (公示)")
    SUBMITTED = ewf.SUBMITTED, _("Submitted for approval (报批)")
    APPROVED = ewf.APPROVED, _("Approved (审批通过)")
    REJECTED = ewf.REJECTED, _("Rejected (不予批准)")
    PAYING = ewf.PAYING, _("Paying (发放中)")
    RECHECK = ewf.RECHECK, _("Re-check (复核)")
    CLOSED = ewf.CLOSED, _("Closed (终止)")


# What the step is and what comes next, shown on the case page.
STATE_HELP = {
    State.ACCEPTED: _("The application is accepted. Next: the community visits the home (two staff) and records the survey."),
    State.SURVEYED: _("The home survey is recorded. Next: the street reviewer checks the facts and gives an opinion."),
    State.REVIEWED: _("The reviewer has given an opinion. Next: the case is put in public notice in the community."),
    State.IN_NOTICE: _("The case is in public notice; objections are recorded and checked. Next: when the notice ends, it is submitted for approval."),
    State.SUBMITTED: _("Submitted for approval. Next: an approver (not the reviewer) approves or rejects it with reasons."),
    State.APPROVED: _("Approved. Next: the first monthly payroll run pays it, and the case moves to paying."),
    State.REJECTED: _("Not approved; the applicant is told the written reasons and may apply again or appeal."),
    State.PAYING: _("Being paid every month. Next: the periodic re-check on the date shown, or a change (raise, lower, stop)."),
    State.RECHECK: _("Under re-check. Next: confirm no change, or decide a raise, lower or stop with written reasons."),
    State.CLOSED: _("Closed; payments stopped. A new application starts a new case."),
}

ACTION_LABELS = {
    "accept": _("Accept"),
    "survey": _("Record home visit"),
    "review": _("Township review"),
    "start_notice": _("Start public notice"),
    "objection": _("Record objection"),
    "submit": _("Submit for approval"),
    "approve": _("Approve"),
    "first_aid": _("Pay first aid now (先行救助)"),
    "reject": _("Reject"),
    "start_payment": _("Start payment"),
    "start_recheck": _("Start re-check"),
    "finding_recheck": _("Re-check after an integrity finding"),
    "complete_recheck": _("Complete re-check (no change)"),
    "raise": _("Raise payment"),
    "lower": _("Lower payment"),
    "stop": _("Stop payment"),
    "withdraw": _("Withdraw"),
    "close": _("Close"),
}


class Case(models.Model):
    """One application (or one report that became an application)."""

    program = models.CharField(_("program"), max_length=20, choices=Program.choices)
    applicant = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="assistance_cases",
                                  verbose_name=_("applicant"))
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT,
                                  verbose_name=_("household"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("community"),
                                 related_name="assistance_cases")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.WINDOW)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACCEPTED, db_index=True)
    # workflow snapshot fields (engine.workflow.CaseSnapshot)
    person_ids = models.JSONField(default=list, verbose_name=_("household members"))  # applicant + household members (Resident ids, as strings)
    notice_started_on = models.DateField(_("notice started"), null=True, blank=True)
    notice_ends_on = models.DateField(_("notice ends"), null=True, blank=True)
    objections = models.PositiveSmallIntegerField(default=0, verbose_name=_("objections"))
    township_may_approve = models.BooleanField(default=False, verbose_name=_("township may approve"))
    conflicted_staff = models.JSONField(default=list, verbose_name=_("staff who declared a relative"))  # user ids (strings) flagged by near-relative declarations
    # what was asked for and what the engine said
    reason = models.TextField(_("situation"), blank=True)
    facts = models.JSONField(default=dict, blank=True, verbose_name=_("facts"))  # engine inputs gathered at intake and survey
    requested_amount = models.DecimalField(_("requested amount"), max_digits=12, decimal_places=2, null=True,
                                           blank=True)
    eligible = models.BooleanField(null=True, verbose_name=_("eligible"))
    outcome_code = models.CharField(max_length=60, blank=True, verbose_name=_("outcome"))
    explanation = models.JSONField(default=list, blank=True, verbose_name=_("explanation"))  # [step.as_dict()]
    provenance = models.JSONField(default=list, blank=True, verbose_name=_("sources"))
    assessed_on = models.DateField(null=True, blank=True, verbose_name=_("assessed on"))
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    grant_amount = models.DecimalField(_("one-off grant"), max_digits=12, decimal_places=2, null=True, blank=True)
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    recheck_category = models.CharField(max_length=30, default="stable", verbose_name=_("re-check category"))
    next_recheck_on = models.DateField(_("next re-check"), null=True, blank=True)
    # deadline of the step the case waits on (recomputed after every transition)
    due_step = models.CharField(max_length=20, blank=True, verbose_name=_("step due"))
    due_on = models.DateField(_("due"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(default=False, verbose_name=_("due date provisional"))  # beyond the holiday calendar: weekends only
    location_lat = models.FloatField(null=True, blank=True, verbose_name=_("latitude"))
    location_lon = models.FloatField(null=True, blank=True, verbose_name=_("longitude"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("assistance case")
        ordering = ["-id"]
        indexes = [models.Index(fields=["division", "state"])]

    def __str__(self):
        return f"#{self.pk} {self.get_program_display()} {self.applicant.name}"

    def recheck_overdue(self, today: dt.date) -> bool:
        """下次复核 has passed while the case is still being paid (red in lists and on the to-do list)."""
        return bool(self.state == State.PAYING and self.next_recheck_on and self.next_recheck_on < today)

    @property
    def number(self) -> str:
        return f"SJ{self.created:%Y}{self.pk:06d}" if self.pk and self.created else ""

    @property
    def area_name(self) -> str:
        """Community (and grid) for lists and the public notice."""
        d = self.division
        if d.level == Division.Level.GRID and d.parent_id:
            return f"{d.parent.name}{d.name}"
        return d.name

    @property
    def flagged_near_relative(self) -> bool:
        return bool(self.conflicted_staff)

    @property
    def one_off(self) -> bool:
        return self.program in ONE_OFF_PROGRAMS


class CaseHistory(models.Model):
    """One transition. Append-only: rows are never updated or deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="history", verbose_name=_("case"))
    seq = models.PositiveIntegerField(verbose_name=_("sequence"))
    action = models.CharField(max_length=20, verbose_name=_("action"))
    from_state = models.CharField(max_length=12, blank=True, verbose_name=_("from state"))
    to_state = models.CharField(max_length=12, verbose_name=_("to state"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(verbose_name=_("time"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("case history")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="assistance_history_seq")]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("case history is append-only")
        super().save(*args, **kwargs)

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)

    def to_engine(self) -> ewf.HistoryEntry:
        return ewf.HistoryEntry(self.seq, self.action, self.from_state or None, self.to_state, str(self.actor_id),
                                self.at, self.reason, self.data)


class SurveyRecord(models.Model):
    """入户调查: what the visitor saw, the household's economic facts, and photos."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("case"))
    visited_on = models.DateField(_("visited on"))
    visitors = models.CharField(_("visitors"), max_length=100, help_text=_("At least two staff visit together."))
    notes = models.TextField(_("home-visit notes"))
    facts = models.JSONField(default=dict, blank=True, verbose_name=_("facts"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("survey record")
        ordering = ["-id"]


class GridReport(models.Model):
    """掌上救助: a grid worker's report of someone found in difficulty (主动发现), classified on the phone.
    Civil-affairs reports wait for a community worker or reviewer to accept them as an application
    (受理) or dismiss them with a reason; reports for another department become a tracked referral."""

    class Status(models.TextChoices):
        NEW = "new", _("Waiting for acceptance")
        ACCEPTED = "accepted", _("Accepted as an application")
        REFERRED = "referred", _("Referred to a department")
        DISMISSED = "dismissed", _("Dismissed")

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("reported by"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    route = models.CharField(_("classified as"), max_length=20)
    description = models.TextField(_("what was found"))
    requested_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("requested amount"))
    lat = models.FloatField(null=True, blank=True, verbose_name=_("latitude"))
    lon = models.FloatField(null=True, blank=True, verbose_name=_("longitude"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="grid_report", verbose_name=_("case"))
    referral = models.OneToOneField("Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("referral"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("handled by"))
    handled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("handled at"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("grid report")
        ordering = ["-id"]

    @property
    def route_label(self):
        return dict(Program.choices).get(self.route) or dict(Referral.Department.choices).get(self.route, self.route)


class Photo(models.Model):
    """A photo from a report or a home visit, stored under var/media and served through an access check."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="photos", verbose_name=_("case"))
    report = models.ForeignKey(GridReport, null=True, blank=True, on_delete=models.PROTECT, related_name="photos", verbose_name=_("report"))
    survey = models.ForeignKey(SurveyRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="photos", verbose_name=_("survey"))
    file = models.FileField(storage=_storage, upload_to="assistance/%Y/%m/", verbose_name=_("file"))
    content_type = models.CharField(max_length=60, blank=True, verbose_name=_("file type"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("photo")


class NoticeObjection(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notice_objections", verbose_name=_("case"))
    raised_by = models.CharField(_("raised by"), max_length=100, blank=True, help_text=_("May be anonymous."))
    content = models.TextField(_("objection"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("notice objection")


class NearRelativeDeclaration(models.Model):
    """近亲属备案: a staff member declares a near relative among the residents."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        PARENT = "parent", _("Parent")
        CHILD = "child", _("Child")
        SIBLING = "sibling", _("Sibling")
        GRANDPARENT = "grandparent", _("Grandparent")
        GRANDCHILD = "grandchild", _("Grandchild")
        IN_LAW = "in_law", _("Parent- or child-in-law")
        OTHER = "other", _("Other near relative")

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="near_relatives",
                              verbose_name=_("staff member"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("relative"))
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    declared_on = models.DateField(_("declared on"), auto_now_add=True)

    class Meta:
        verbose_name = _("near relative declaration")
        constraints = [models.UniqueConstraint(fields=["staff", "resident"], name="assistance_nrd_unique")]


class Referral(models.Model):
    """A report routed to another department (转介), tracked until that department answers."""

    class Department(models.TextChoices):
        MEDICAL = "medical", _("Medical insurance / health (医保、卫健)")
        EDUCATION = "education", _("Education (教育)")
        HOUSING = "housing", _("Housing (住建)")
        EMPLOYMENT = "employment", _("Human resources / employment (人社)")
        DISABILITY = "disability", _("Disabled persons' federation (残联)")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received by the department")
        DONE = "done", _("Handled")
        RETURNED = "returned", _("Returned to civil affairs")

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("case"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    need = models.TextField(_("need"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    response = models.TextField(_("department's answer"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    due_on = models.DateField(_("answer due"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("referral")
        ordering = ["-id"]


class Entitlement(models.Model):
    """What is owed per month (engine ``payroll.Entitlement``). ``case`` is empty for beneficiaries migrated
    from the previous system."""

    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="entitlement", verbose_name=_("case"))
    program = models.CharField(_("program"), max_length=20, choices=Program.choices, db_index=True)
    beneficiary_id = models.CharField(max_length=30, verbose_name=_("beneficiary"))  # "h<household id>" or "r<resident id>"
    payee = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("payee"))
    payee_name = models.CharField(_("payee"), max_length=50)
    bank_account_enc = models.TextField(blank=True, editable=False, verbose_name=_("bank account (encrypted)"))  # encrypted like ID numbers (core.pii)
    bank_account_masked = models.CharField(_("bank account"), max_length=40, blank=True)
    township = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=12, decimal_places=2)
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    start_month = models.DateField(_("first month paid"))
    stop_month = models.DateField(_("first month not paid"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("entitlement")
        indexes = [models.Index(fields=["program", "township"])]

    def __str__(self):
        return f"{self.get_program_display()} {self.payee_name}"

    def set_bank_account(self, raw: str) -> None:
        from carenet.core import pii

        raw = (raw or "").replace(" ", "")
        self.bank_account_enc = pii.encrypt(raw) if raw else ""
        self.bank_account_masked = (raw[:4] + "*" * max(len(raw) - 8, 0) + raw[-4:]) if len(raw) > 8 else raw

    @property
    def bank_account(self) -> str:
        from carenet.core import pii

        return pii.decrypt(self.bank_account_enc) if self.bank_account_enc else ""


class PaymentHold(models.Model):
    """暂停发放: payment held while a decision is pending (e.g. an integrity finding confirmed, the stop decision
    not yet taken). The payroll skips a held entitlement and says why; months held are paid as arrears if the
    hold is released without a stop."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="holds", verbose_name=_("entitlement"))
    reason = models.CharField(_("reason"), max_length=300)
    source = models.CharField(_("requested by"), max_length=60, blank=True)  # e.g. "matching.finding:12"
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("held by"))
    held_at = models.DateTimeField(_("held at"), auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("released by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.CharField(_("release reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment hold")
        ordering = ["-id"]


class EntitlementChange(models.Model):
    """增发 / 减发 / 标准调整 from a month on (engine ``AmountChange``). Append-only."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="changes", verbose_name=_("entitlement"))
    effective_month = models.DateField(verbose_name=_("effective month"))
    monthly_amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("monthly amount"))
    persons = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("persons"))
    reason = models.TextField(verbose_name=_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("entitlement change")
        ordering = ["effective_month", "id"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("entitlement changes are append-only")
        super().save(*args, **kwargs)


class PayrollRun(models.Model):
    """One monthly payroll job for a program (or all) in an area."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run_month = models.DateField(_("payroll month"))
    program = models.CharField(_("program"), max_length=20, choices=PROGRAM_CHOICES_WITH_ANY, default="*")
    area = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    log = models.TextField(blank=True, verbose_name=_("log"))
    entitlements = models.PositiveIntegerField(default=0, verbose_name=_("entitlements"))
    lines = models.PositiveIntegerField(default=0, verbose_name=_("lines"))
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0, verbose_name=_("total"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    objects = ScopedManager()
    scope_path = "area__path"

    class Meta:
        verbose_name = _("payroll run")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.run_month:%Y-%m} {self.program} {self.area.name}"


class LedgerLine(models.Model):
    """One paid line. Insert-only; corrections are new 补发/追回 lines."""

    class Kind(models.TextChoices):
        NORMAL = "normal", _("Regular payment")
        BACK_PAY = "back_pay", _("Back pay (补发)")
        RECOVERY = "recovery", _("Recovery (追回)")

    # no separate index: the unique key (entitlement, period, run_month, kind) starts with it
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="ledger", db_index=False, verbose_name=_("entitlement"))
    payroll_run = models.ForeignKey(PayrollRun, on_delete=models.PROTECT, related_name="ledger_lines", verbose_name=_("payroll run"))
    program = models.CharField(max_length=20, choices=Program.choices, verbose_name=_("program"))
    beneficiary_id = models.CharField(max_length=30, verbose_name=_("beneficiary"))
    township = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"))
    period = models.DateField(verbose_name=_("period"))
    run_month = models.DateField(db_index=True, verbose_name=_("payroll month"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    persons = models.PositiveSmallIntegerField(default=0, verbose_name=_("persons"))
    note = models.CharField(max_length=100, blank=True, verbose_name=_("note"))

    objects = ScopedManager()
    scope_path = "entitlement__division__path"

    class Meta:
        verbose_name = _("ledger line")
        ordering = ["run_month", "township", "program", "id"]
        constraints = [models.UniqueConstraint(fields=["entitlement", "period", "run_month", "kind"],
                                               name="assistance_ledger_key")]
        indexes = [models.Index(fields=["program", "township", "run_month"])]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("ledger lines are insert-only")
        super().save(*args, **kwargs)
