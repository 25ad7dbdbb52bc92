"""Department datasets, their loads, and the integrity findings and recoveries drawn from them."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carenet.core.models import Division
from carenet.core.scoping import ScopedManager
from carenet.people.models import Resident


class Kind(models.TextChoices):
    DEATHS = "deaths", _("Deaths and cremations (公安/卫健/殡葬)")
    STAFF = "staff", _("Staff of state bodies and their relatives (组织/人社)")
    DISABILITY = "disability", _("Disability registry (残联)")
    ASSETS = "assets", _("Vehicles, real estate, companies (公安/自然资源/市场监管)")
    MEDICAL = "medical", _("Hospital bills (医保)")
    INCOME = "income", _("Income and pay (人社/税务)")
    BENEFITS = "benefits", _("Assistance paid by other areas (外区县/其他项目发放名册)")
    SCHOOL = "school", _("School enrolment (教育)")
    DISASTER = "disaster", _("Disaster losses (应急)")
    UNEMPLOYMENT = "unemployment", _("Unemployment registration (人社)")


# Canonical fields per kind; the mapping screen maps a department's own headers onto them.
FIELDS = {
    "deaths": ["name", "id_number", "birth_date", "death_date", "division_code", "address"],
    "staff": ["name", "id_number", "employer", "civil_affairs", "unit_division_code", "relative_name",
              "relative_id_number", "relation"],
    "disability": ["name", "id_number", "grade", "category"],
    "assets": ["name", "id_number", "asset_kind", "description", "value"],
    "medical": ["name", "id_number", "bill_date", "out_of_pocket"],
    "income": ["name", "id_number", "monthly_income", "employer"],
    "benefits": ["name", "id_number", "program", "area_name", "monthly_amount", "paid_month"],
    "school": ["name", "id_number", "school", "level", "enrol_date"],
    "disaster": ["name", "id_number", "disaster_date", "disaster_kind", "loss"],
    "unemployment": ["name", "id_number", "registered_on"],
}
FIELD_LABELS = {
    "name": _("name"), "id_number": _("ID number"), "division_code": _("division code"), "address": _("address"), "birth_date": _("birth date"), "death_date": _("date of death"),
    "employer": _("employer"), "civil_affairs": _("civil affairs staff"), "unit_division_code": _("unit's division code"),
    "relative_name": _("relative's name"), "relative_id_number": _("relative's ID number"), "relation": _("relation"),
    "grade": _("disability grade"), "category": _("disability category"), "asset_kind": _("asset kind"),
    "description": _("description"), "value": _("value"), "bill_date": _("bill date"),
    "out_of_pocket": _("out-of-pocket cost"), "monthly_income": _("monthly income"),
    "program": _("program"), "area_name": _("paying area"), "monthly_amount": _("monthly amount"),
    "paid_month": _("month paid"), "school": _("school"), "level": _("level of study"),
    "enrol_date": _("enrolment date"), "disaster_date": _("disaster date"), "disaster_kind": _("disaster"),
    "loss": _("loss"), "registered_on": _("registered on"),
}
REQUIRED = {"deaths": ["name", "death_date"], "staff": ["name", "employer", "relative_name", "relation"],
            "disability": ["name", "id_number", "grade"], "assets": ["name", "id_number", "asset_kind", "value"],
            "medical": ["name", "id_number", "out_of_pocket"], "income": ["name", "id_number", "monthly_income"],
            "benefits": ["name", "id_number", "program", "area_name", "monthly_amount"],
            "school": ["name", "id_number", "level"], "disaster": ["name", "id_number", "loss"],
            "unemployment": ["name", "id_number", "registered_on"]}
ALIASES = {
    "name": ["姓名", "name", "死者姓名", "工作人员姓名"], "division_code": ["区划代码", "户籍区划代码", "division_code"],
    "address": ["住址", "户籍地址", "地址", "address"], "id_number": ["身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number"],
    "birth_date": ["出生日期", "birth_date"], "death_date": ["死亡日期", "火化日期", "death_date"],
    "employer": ["工作单位", "单位", "employer"], "civil_affairs": ["是否民政系统", "民政系统", "civil_affairs"],
    "unit_division_code": ["单位区划代码", "所在乡镇代码", "unit_division_code"],
    "relative_name": ["亲属姓名", "relative_name"], "relative_id_number": ["亲属身份证号", "relative_id_number"],
    "relation": ["关系", "亲属关系", "relation"], "grade": ["残疾等级", "等级", "grade"], "category": ["残疾类别", "category"],
    "asset_kind": ["财产类型", "asset_kind"], "description": ["财产描述", "描述", "description"], "value": ["价值", "金额", "value"],
    "bill_date": ["结算日期", "bill_date"], "out_of_pocket": ["个人自付", "自付金额", "out_of_pocket"],
    "monthly_income": ["月收入", "monthly_income"],
    "program": ["救助项目", "项目", "program"], "area_name": ["发放地区", "发放单位", "area_name"],
    "monthly_amount": ["月发放金额", "发放金额", "monthly_amount"], "paid_month": ["发放月份", "paid_month"],
    "school": ["学校", "就读学校", "school"], "level": ["学历层次", "就读层次", "level"],
    "enrol_date": ["入学日期", "入学时间", "enrol_date"], "disaster_date": ["受灾日期", "disaster_date"],
    "disaster_kind": ["灾种", "灾害类型", "disaster_kind"], "loss": ["损失金额", "直接经济损失", "loss"],
    "registered_on": ["失业登记日期", "登记日期", "registered_on"],
}


class Source(models.Model):
    """A department's file as it comes every month; the column mapping is remembered here."""

    name = models.CharField(_("source"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    department = models.CharField(_("department"), max_length=50)
    mapping = models.JSONField(default=dict, blank=True)  # header in the file -> canonical field
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Load(models.Model):
    """One versioned snapshot of a source, with provenance. Never edited."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="loads")
    version = models.PositiveIntegerField(_("version"))
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(_("file hash"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    linked = models.PositiveIntegerField(_("linked to residents"), default=0)
    rejects = models.JSONField(default=list, blank=True)  # [{"row": n, "reason": "..."}], ID numbers masked
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("loaded by"))
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    import_run = models.ForeignKey("core.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["source", "version"], name="matching_load_version")]

    def __str__(self):
        return f"{self.source.name} v{self.version}"


class DeptRecord(models.Model):
    load = models.ForeignKey(Load, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    row_no = models.PositiveIntegerField()
    name = models.CharField(_("name"), max_length=50)
    id_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    data = models.JSONField(default=dict, blank=True)  # the other canonical fields (no clear ID numbers)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    link_probability = models.FloatField(null=True, blank=True)
    link_how = models.CharField(max_length=20, blank=True)  # id | model

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["load", "row_no"]


class Finding(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("New")
        INVESTIGATING = "investigating", _("Under investigation")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    rule = models.CharField(_("rule"), max_length=30, db_index=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))
    case = models.ForeignKey("assistance.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    summary = models.CharField(_("summary"), max_length=300)
    evidence = models.JSONField(default=list)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    months = models.JSONField(default=list, blank=True)
    source_load = models.ForeignKey(Load, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.OPEN, db_index=True)
    investigation = models.TextField(_("investigation notes"), blank=True)
    investigated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    reason = models.TextField(_("decision reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("found"), auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-id"]
        # a finding is raised once per rule, person and case: a dismissed one is not asked again
        constraints = [models.UniqueConstraint(fields=["rule", "resident", "case"], name="matching_finding_once")]


class Recovery(models.Model):
    """Money to recover (追回) after a confirmed finding; repayments are tracked against it."""

    finding = models.OneToOneField(Finding, on_delete=models.PROTECT, related_name="recovery")
    case = models.ForeignKey("assistance.Case", on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("to recover"), max_digits=12, decimal_places=2)
    repaid = models.DecimalField(_("repaid"), max_digits=12, decimal_places=2, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-id"]

    @property
    def outstanding(self):
        return self.amount - self.repaid


class Repayment(models.Model):
    recovery = models.ForeignKey(Recovery, on_delete=models.PROTECT, related_name="repayments")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)


class ReviewPair(models.Model):
    """An uncertain link (between the review and accept thresholds) between a department record and a resident."""

    record = models.ForeignKey(DeptRecord, on_delete=models.PROTECT, related_name="review_pairs")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField()
    key = models.CharField(max_length=64, db_index=True)  # who the record is (ID hash, or name + birth date)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-probability", "id"]


class LinkDecision(models.Model):
    """A reviewer's answer for a pair: remembered, so the same pair is never asked again."""

    key = models.CharField(max_length=64)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    same_person = models.BooleanField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "resident"], name="matching_link_decision_once")]


class RiskAlert(models.Model):
    """动态监测: a household at risk of falling into poverty, scored by the dated rules of engine/risk.py, as a task
    for the worker of its area with a deadline. Outcome: admitted (an intake opened), other help (a referral), or
    no need (with a reason). Overdue alerts escalate to the township."""

    class Status(models.TextChoices):
        OPEN = "open", _("To visit")
        VISITED = "visited", _("Visited")
        ADMITTED = "admitted", _("Admitted to a program")
        REFERRED = "referred", _("Other help (referral)")
        NO_NEED = "no_need", _("No need")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))
    household = models.ForeignKey("people.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    score = models.PositiveSmallIntegerField(_("risk score"))
    signals = models.JSONField(default=list)   # signal codes, e.g. ["illness", "unemployment"]
    reasons = models.JSONField(default=list)   # [{"signal", "weight", "text"}], Chinese, from the engine
    rules_from = models.DateField(_("rules of"))  # the effective date of the rule set that scored it
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    deadline = models.DateField(_("deadline"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("assigned to"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    visit_notes = models.TextField(_("visit notes"), blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    case = models.ForeignKey("assistance.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey("assistance.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("raised"), auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["status", "-score", "deadline", "id"]

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.VISITED)


class ScreenRun(models.Model):
    """精准识别: one run of a saved, parameterised screen (engine/screens.py), with its parameters."""

    screen = models.CharField(_("screen"), max_length=30)
    params = models.JSONField(default=dict, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    found = models.PositiveIntegerField(_("found"), default=0)
    new = models.PositiveIntegerField(_("new on the list"), default=0)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("run by"))
    run_at = models.DateTimeField(_("run at"), auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-id"]


class Discovery(models.Model):
    """A household found by a screen: a visit task, then a per-household plan (一户一策 / 一人一议)."""

    class Status(models.TextChoices):
        TO_VISIT = "to_visit", _("To visit")
        VISITED = "visited", _("Visited")
        PLANNED = "planned", _("Plan agreed")
        DONE = "done", _("Plan completed")
        NO_NEED = "no_need", _("No need")

    run = models.ForeignKey(ScreenRun, on_delete=models.PROTECT, related_name="items")
    screen = models.CharField(_("screen"), max_length=30, db_index=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("person"))
    household = models.ForeignKey("people.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    evidence = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.TO_VISIT, db_index=True)
    deadline = models.DateField(_("visit by"))
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    visit_notes = models.TextField(_("visit notes"), blank=True)
    plan = models.TextField(_("plan (measures agreed)"), blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["status", "deadline", "id"]


class PlanStep(models.Model):
    """One measure of a household's plan, with who follows it up, by when, and where it stands."""

    class Status(models.TextChoices):
        TODO = "todo", _("Not started")
        DOING = "doing", _("In progress")
        DONE = "done", _("Done")

    item = models.ForeignKey(Discovery, on_delete=models.PROTECT, related_name="steps")
    measure = models.CharField(_("measure"), max_length=200)
    owner = models.CharField(_("responsible"), max_length=50)
    due = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.TODO)
    note = models.CharField(_("follow-up"), max_length=300, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "id"]
