from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from carenet.assistance import models as m
from carenet.assistance.engine import rules as erules

Z = Decimal("0")


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultiFileInput

    def clean(self, data, initial=None):
        from carenet.core.uploads import check_image

        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        for upload in files:  # size cap and a real image, before anything is stored
            upload.verified_content_type = check_image(upload)
        return files


def _money(label, required=False):
    return forms.DecimalField(label=label, required=required, min_value=0, max_digits=12, decimal_places=2,
                              widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}))


def _select(choices, label, required=True, initial=None):
    return forms.ChoiceField(label=label, choices=choices, required=required, initial=initial,
                             widget=forms.Select(attrs={"class": "form-select"}))


class FactsForm(forms.Form):
    """The household economic facts the engine needs (收入、财产、刚性支出; 特困 and 临时救助 details)."""

    wage_income = _money(_("Monthly wage income of the household (yuan)"))
    other_income = _money(_("Other monthly income (pensions, maintenance, business) (yuan)"))
    excluded_income = _money(_("Income not counted (优抚, rewards, assistance) (yuan)"))
    deposits = _money(_("Deposits and securities of the household (yuan)"))
    vehicles = forms.IntegerField(label=_("Motor vehicles (excluding disability vehicles)"), required=False, min_value=0,
                                  widget=forms.NumberInput(attrs={"class": "form-control"}))
    housing_units = forms.IntegerField(label=_("Housing units owned"), required=False, min_value=0,
                                       widget=forms.NumberInput(attrs={"class": "form-control"}))
    medical_expense = _money(_("Monthly out-of-pocket medical expense (yuan)"))
    education_expense = _money(_("Monthly education expense (yuan)"))
    bank_account = forms.CharField(label=_("Bank account for payments"), required=False, max_length=30,
                                   widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}))
    # 特困
    support_mode = _select([("dispersed", _("Dispersed (at home)")), ("centralised", _("Centralised (in an institution)"))],
                           _("Support mode (特困)"), required=False)
    care_level = _select([("self_care", _("Can look after themselves")), ("partial", _("Partly disabled")),
                          ("full", _("Fully disabled"))], _("Care level (特困)"), required=False)
    disability_grade = _select([("", "—"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")],
                               _("Disability grade"), required=False)
    has_able_supporter = forms.BooleanField(label=_("Has a statutory supporter able to support (特困)"), required=False)
    # 临时救助
    aid_type = _select([("emergency", _("Emergency (急难型)")), ("expense", _("Expense (支出型)"))],
                       _("Temporary aid type"), required=False)
    household_status = _select([("none", _("None")), ("dibao", _("Dibao household")), ("marginal", _("Marginal household"))],
                               _("Current assistance status"), required=False)
    special = forms.BooleanField(label=_("Special hardship (cap 12×)"), required=False)

    FACT_FIELDS = ("wage_income", "other_income", "excluded_income", "deposits", "vehicles", "housing_units",
                   "medical_expense", "education_expense", "bank_account", "support_mode", "care_level",
                   "disability_grade", "has_able_supporter", "aid_type", "household_status", "special")

    def facts(self, applicant_id) -> dict:
        d = self.cleaned_data
        money = lambda k: str(d.get(k) or Z)  # noqa: E731
        total_income = (d.get("wage_income") or Z) + (d.get("other_income") or Z)
        return {
            "incomes": [{"person_id": str(applicant_id), "type": "wage", "amount": money("wage_income")},
                        {"person_id": str(applicant_id), "type": "other", "amount": money("other_income")},
                        {"person_id": str(applicant_id), "type": "special_care", "amount": money("excluded_income")}],
            "assets": {"deposits": money("deposits"), "vehicles": d.get("vehicles") or 0,
                       "housing_units": d.get("housing_units") or 0},
            "expenses": [{"type": "medical", "amount": money("medical_expense")},
                         {"type": "education", "amount": money("education_expense")}],
            "bank_account": d.get("bank_account") or "",
            "tekun": {"support_mode": d.get("support_mode") or "dispersed", "care_level": d.get("care_level") or "self_care",
                      "disability_grade": d.get("disability_grade") or None, "monthly_income": str(total_income),
                      "deposits": money("deposits"),
                      "supporters": [{"name": "", "relation": "", "able": True}] if d.get("has_able_supporter") else []},
            "temp_aid": {"aid_type": d.get("aid_type") or "emergency", "household_status": d.get("household_status") or "none",
                         "special": bool(d.get("special"))},
        }

    @staticmethod
    def initial_from(facts: dict) -> dict:
        if not facts:
            return {}
        inc = {i.get("type"): i.get("amount") for i in facts.get("incomes", [])}
        exp = {e.get("type"): e.get("amount") for e in facts.get("expenses", [])}
        a, t, ta = facts.get("assets", {}), facts.get("tekun", {}), facts.get("temp_aid", {})
        return {"wage_income": inc.get("wage"), "other_income": inc.get("other"), "excluded_income": inc.get("special_care"),
                "deposits": a.get("deposits"), "vehicles": a.get("vehicles"), "housing_units": a.get("housing_units"),
                "medical_expense": exp.get("medical"), "education_expense": exp.get("education"),
                "bank_account": facts.get("bank_account"), "support_mode": t.get("support_mode"),
                "care_level": t.get("care_level"), "disability_grade": t.get("disability_grade") or "",
                "has_able_supporter": bool(t.get("supporters")), "aid_type": ta.get("aid_type"),
                "household_status": ta.get("household_status"), "special": ta.get("special")}


class IntakeForm(FactsForm):
    program = _select(m.Program.choices, _("Program"))
    channel = _select([(m.Channel.WINDOW, m.Channel.WINDOW.label), (m.Channel.COMMUNITY, m.Channel.COMMUNITY.label)],
                      _("Channel"))
    applicant = forms.IntegerField(widget=forms.HiddenInput, required=False)
    id_number = forms.CharField(label=_("Applicant's ID number"), required=False, max_length=20,
                                widget=forms.TextInput(attrs={"class": "form-control font-monospace"}))
    reason = forms.CharField(label=_("Situation and reason for applying"), widget=forms.Textarea(
        attrs={"class": "form-control", "rows": 3}))
    requested_amount = _money(_("Requested amount (one-off programs) (yuan)"))

    def clean(self):
        d = super().clean()
        if not d.get("applicant") and not d.get("id_number"):
            raise forms.ValidationError(_("Choose the applicant or enter the ID number."))
        return d


class ReportForm(forms.Form):
    """The grid worker's mobile report (掌上救助)."""

    ROUTES = [(_("Civil affairs"), [(v, l) for v, l in m.Program.choices]),
              (_("Refer to another department"), list(m.Referral.Department.choices))]
    applicant = forms.IntegerField(widget=forms.HiddenInput, required=False)
    new_name = forms.CharField(label=_("Name (if not found)"), required=False, max_length=50,
                               widget=forms.TextInput(attrs={"class": "form-control form-control-lg"}))
    new_id_number = forms.CharField(label=_("ID number (if not found)"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"class": "form-control form-control-lg font-monospace"}))
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=20,
                                widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "inputmode": "tel"}))
    route = forms.ChoiceField(label=_("What help is needed"), choices=[("", _("Choose the help needed…"))] + ROUTES,
                              widget=forms.Select(attrs={"class": "form-select form-select-lg"}))
    description = forms.CharField(label=_("What you found"), widget=forms.Textarea(
        attrs={"class": "form-control form-control-lg", "rows": 4}))
    requested_amount = forms.DecimalField(label=_("Amount needed (temporary aid, yuan)"), required=False, min_value=0,
                                          max_digits=12, decimal_places=2, widget=forms.NumberInput(
                                              attrs={"class": "form-control form-control-lg", "inputmode": "decimal"}))
    photos = PhotosField(label=_("Photos"), required=False, widget=MultiFileInput(
        attrs={"class": "form-control form-control-lg", "accept": "image/*", "capture": "environment"}))
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)

    def clean(self):
        d = super().clean()
        if not d.get("applicant") and not (d.get("new_name") and d.get("new_id_number")):
            raise forms.ValidationError(_("Choose the person or enter a name and ID number."))
        return d


class SurveyForm(FactsForm):
    visited_on = forms.DateField(label=_("Visited on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}))
    visitors = forms.CharField(label=_("Visitors (at least two)"), max_length=100,
                               widget=forms.TextInput(attrs={"class": "form-control"}))
    notes = forms.CharField(label=_("Home-visit notes"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}))
    photos = PhotosField(label=_("Photos"), required=False, widget=MultiFileInput(
        attrs={"class": "form-control", "accept": "image/*", "capture": "environment"}))

    EXCLUSIONS = [("", "—"), ("clergy_3y", _("Clergy living apart 3+ years")), ("imprisoned", _("Serving a sentence")),
                  ("compulsory_rehab", _("Compulsory drug rehabilitation")), ("declared_missing", _("Declared missing"))]

    def __init__(self, *args, members=(), **kwargs):
        """``members``: the applicant's household (Residents); each gets the Art. 7 facts the survey finds."""
        super().__init__(*args, **kwargs)
        self.members = []
        for r in members:
            names = {k: f"m{r.pk}_{k}" for k in ("student", "dependent", "apart", "exclusion", "employable")}
            self.fields[names["student"]] = forms.BooleanField(label=_("Full-time student"), required=False)
            self.fields[names["dependent"]] = forms.BooleanField(label=_("Cannot live independently"), required=False)
            self.fields[names["apart"]] = forms.BooleanField(label=_("Does not live with the applicant"), required=False)
            self.fields[names["employable"]] = forms.BooleanField(label=_("Able to work"), required=False)
            self.fields[names["exclusion"]] = forms.ChoiceField(
                label=_("Not counted because"), choices=self.EXCLUSIONS, required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
            self.members.append((r, [self[names[k]] for k in ("student", "dependent", "apart", "employable",
                                                              "exclusion")]))

    def facts(self, applicant_id) -> dict:
        out = super().facts(applicant_id)
        d = self.cleaned_data
        members = {}
        for r, _bound in self.members:
            p = f"m{r.pk}_"
            members[str(r.pk)] = {"full_time_student": bool(d.get(p + "student")),
                                  "cannot_live_independently": bool(d.get(p + "dependent")),
                                  "cohabiting": not d.get(p + "apart"), "employable": bool(d.get(p + "employable")),
                                  "exclusion": d.get(p + "exclusion") or None}
        out["members"] = members
        return out

    @staticmethod
    def member_initial(facts: dict) -> dict:
        out = {}
        for pk, o in (facts or {}).get("members", {}).items():
            p = f"m{pk}_"
            out |= {p + "student": o.get("full_time_student"), p + "dependent": o.get("cannot_live_independently"),
                    p + "apart": not o.get("cohabiting", True), p + "employable": o.get("employable"),
                    p + "exclusion": o.get("exclusion") or ""}
        return out


class ReviewForm(forms.Form):
    recommend = forms.TypedChoiceField(label=_("Opinion"), coerce=lambda v: v == "1", initial="1",
                                       choices=[("1", _("Recommend approval")), ("0", _("Do not recommend"))],
                                       widget=forms.RadioSelect)
    opinion = forms.CharField(label=_("Review opinion"), required=False,
                              widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


class OpinionForm(forms.Form):
    opinion = forms.CharField(label=_("Opinion"), required=False,
                              widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Written reason"), required=False,
                             widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


class ObjectionForm(forms.Form):
    raised_by = forms.CharField(label=_("Raised by (may be anonymous)"), required=False, max_length=100,
                                widget=forms.TextInput(attrs={"class": "form-control"}))
    content = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


def _month_field(label):
    return forms.DateField(label=label, input_formats=["%Y-%m", "%Y-%m-%d"],
                           widget=forms.DateInput(format="%Y-%m", attrs={"type": "month", "class": "form-control"}))


class PaymentChangeForm(forms.Form):
    monthly_amount = _money(_("New monthly amount (yuan)"), required=True)
    effective_month = _month_field(_("From month"))
    reason = forms.CharField(label=_("Written reason"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


class StopForm(forms.Form):
    effective_month = _month_field(_("First month not paid"))
    reason = forms.CharField(label=_("Written reason"), widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))


class PayrollForm(forms.Form):
    run_month = _month_field(_("Payroll month"))
    program = _select(m.PROGRAM_CHOICES_WITH_ANY, _("Program"), initial="*")
    area = forms.ModelChoiceField(label=_("Area"), queryset=None, widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas


TIER_ROWS = 5


class StandardForm(forms.Form):
    """One dated standard, with a labelled input per key: numbers with their unit, a checkbox, a select,
    check boxes, or a small row editor for tiers and per-level amounts. Builds the engine's Python value."""
    division = forms.ModelChoiceField(label=_("Division"), queryset=None, widget=forms.Select(attrs={"class": "form-select"}))
    program = _select(m.PROGRAM_CHOICES_WITH_ANY, _("Program"))
    key = forms.ChoiceField(label=_("Standard"), choices=[(k, erules.KEY_LABELS_ZH.get(k, k)) for k in erules.KEY_TYPES],
                            widget=forms.HiddenInput)
    effective_from = forms.DateField(label=_("Effective from"), initial=dt.date.today,
                                     widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": "form-control"}))
    source = forms.CharField(label=_("Legal basis (document number, article)"), max_length=300,
                             widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, divisions=None, key=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions
        key = (self.data.get("key") if self.is_bound else None) or key
        self.std_key = key if key in erules.KEY_TYPES else None
        self.kind = erules.KEY_TYPES.get(self.std_key)
        self.unit = erules.KEY_UNITS_ZH.get(self.std_key, "")
        self.value_fields: list[str] = []
        self.tier_rows: list[tuple[str, str, str]] = []
        if self.std_key:
            self.fields["key"].initial = self.std_key
            self._add_value_fields()

    def _add(self, name, field):
        self.fields[name] = field
        self.value_fields.append(name)

    def _add_value_fields(self):
        kind, key, label = self.kind, self.std_key, erules.KEY_LABELS_ZH.get(self.std_key, self.std_key)
        words = erules.VALUE_OPTIONS_ZH.get(key, {})
        number = {"class": "form-control", "inputmode": "decimal"}
        if kind in ("decimal", "decimal_or_none"):
            self._add("value", forms.DecimalField(
                label=label, required=kind == "decimal", min_value=0, max_digits=12, decimal_places=2,
                help_text=_("Leave empty for no cap.") if kind == "decimal_or_none" else "",
                widget=forms.NumberInput(attrs=dict(number, step="0.01"))))
        elif kind == "int":
            self._add("value", forms.IntegerField(label=label, min_value=0, max_value=10000,
                                                  widget=forms.NumberInput(attrs={"class": "form-control"})))
        elif kind == "bool":
            self._add("value", forms.BooleanField(label=label, required=False,
                                                  widget=forms.CheckboxInput(attrs={"class": "form-check-input"})))
        elif kind == "str":
            self._add("value", forms.ChoiceField(label=label, choices=list(words.items()),
                                                 widget=forms.Select(attrs={"class": "form-select"})))
        elif kind == "str_list":
            self._add("value", forms.MultipleChoiceField(label=label, required=False, choices=list(words.items()),
                                                         widget=forms.CheckboxSelectMultiple))
        elif kind in ("pairs_decimal", "pairs_int"):
            for code, word in words.items():
                field = (forms.DecimalField(min_value=0, max_digits=12, decimal_places=2,
                                            widget=forms.NumberInput(attrs=dict(number, step="0.01")))
                         if kind == "pairs_decimal" else
                         forms.IntegerField(min_value=1, max_value=120, widget=forms.NumberInput(attrs={"class": "form-control"})))
                field.label = word
                self._add(f"pair_{code}", field)
        elif kind == "tiers":
            for i in range(TIER_ROWS):
                names = (f"tier_{i}_from", f"tier_{i}_to", f"tier_{i}_amount")
                self._add(names[0], forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=150,
                                                       widget=forms.NumberInput(attrs={"class": "form-control"})))
                self._add(names[1], forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=150,
                                                       widget=forms.NumberInput(attrs={"class": "form-control"})))
                self._add(names[2], forms.DecimalField(label=_("Amount"), required=False, min_value=0, max_digits=12,
                                                       decimal_places=2, widget=forms.NumberInput(attrs=dict(number, step="0.01"))))
                self.tier_rows.append(names)

    def bound_value_fields(self):
        return [self[n] for n in self.value_fields if not n.startswith("tier_")]

    def bound_tier_rows(self):
        return [[self[n] for n in names] for names in self.tier_rows]

    def clean(self):
        d = super().clean()
        if not self.std_key:
            raise forms.ValidationError(_("Choose a standard first."))
        kind = self.kind
        if any(n in self.errors for n in self.value_fields):
            return d
        if kind in ("decimal", "decimal_or_none", "int", "bool", "str"):
            value = d.get("value")
        elif kind == "str_list":
            value = tuple(d.get("value") or ())
        elif kind in ("pairs_decimal", "pairs_int"):
            value = tuple((n[len("pair_"):], d[n]) for n in self.value_fields)
        else:  # tiers
            value, last_to = [], None
            for lo_n, hi_n, amount_n in self.tier_rows:
                lo, hi, amount = d.get(lo_n), d.get(hi_n), d.get(amount_n)
                if lo is None and hi is None and amount is None:
                    continue
                if lo is None or amount is None:
                    self.add_error(lo_n if lo is None else amount_n, _("A row needs an age from and an amount."))
                    return d
                if hi is not None and hi < lo:
                    self.add_error(hi_n, _("The upper age is below the lower age."))
                    return d
                if value and (last_to is None or lo <= last_to):
                    self.add_error(lo_n, _("Rows must go up in age without overlapping."))
                    return d
                value.append((lo, hi, amount))
                last_to = hi
            if not value:
                self.add_error(self.tier_rows[0][0], _("Enter at least one row."))
                return d
            value = tuple(value)
        cent = Decimal("0.01")
        if kind in ("decimal", "decimal_or_none") and value is not None and self.unit.startswith("元"):
            value = value.quantize(cent)
        elif kind == "tiers":
            value = tuple((lo, hi, amount.quantize(cent)) for lo, hi, amount in value)
        elif kind == "pairs_decimal":
            value = tuple((k, v.quantize(cent)) for k, v in value)
        try:
            d["parsed"] = erules.decode_value(self.std_key, erules.encode_value(self.std_key, value))
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return d


class RelativeForm(forms.Form):
    id_number = forms.CharField(label=_("Relative's ID number"), max_length=20,
                                widget=forms.TextInput(attrs={"class": "form-control font-monospace"}))
    relation = _select(m.NearRelativeDeclaration.Relation.choices, _("Relation"))


class ReferralUpdateForm(forms.Form):
    status = _select(m.Referral.Status.choices, _("Status"))
    response = forms.CharField(label=_("Department's answer"), required=False,
                               widget=forms.TextInput(attrs={"class": "form-control"}))
