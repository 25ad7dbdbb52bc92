from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.homecare import models as m

W = {"class": "form-control"}
S = {"class": "form-select"}


class OrderForm(forms.Form):
    service_type = forms.ModelChoiceField(label=_("Service"), queryset=m.ServiceType.objects.filter(active=True),
                                          widget=forms.Select(attrs=S))
    scheduled_at = forms.DateTimeField(label=_("When"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                       widget=forms.DateTimeInput(attrs={**W, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1, max_value=600,
                                 widget=forms.NumberInput(attrs=W))
    helper = forms.ModelChoiceField(label=_("Helper (leave empty to assign automatically)"), required=False,
                                    queryset=m.Helper.objects.none(), widget=forms.Select(attrs=S))
    notes = forms.CharField(label=_("Notes for the helper"), required=False, max_length=300, widget=forms.TextInput(attrs=W))
    self_pay_consent = forms.BooleanField(label=_("The elder agrees to pay what exceeds the budget (自费)"), required=False,
                                          widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, helpers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if helpers is not None:
            self.fields["helper"].queryset = helpers
        if not self.is_bound:
            self.initial.setdefault("scheduled_at", (timezone.localtime() + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0))

    def clean_scheduled_at(self):
        v = self.cleaned_data["scheduled_at"]
        if v < timezone.now() - dt.timedelta(hours=1):
            raise forms.ValidationError(_("The time is in the past."))
        return v


class PlanForm(forms.Form):
    service_type = forms.ModelChoiceField(label=_("Service"), queryset=m.ServiceType.objects.filter(active=True),
                                          widget=forms.Select(attrs=S))
    weekdays = forms.TypedMultipleChoiceField(label=_("Weekdays"), coerce=int, choices=[
        (0, _("Mon")), (1, _("Tue")), (2, _("Wed")), (3, _("Thu")), (4, _("Fri")), (5, _("Sat")), (6, _("Sun"))],
        widget=forms.CheckboxSelectMultiple)
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={**W, "type": "time"}))
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={**W, "type": "date"}))
    end = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={**W, "type": "date"}))
    holidays = forms.ChoiceField(label=_("Public holidays"), choices=m.RecurringPlan.Holidays.choices, widget=forms.Select(attrs=S))


class VisitForm(forms.Form):
    seen = forms.CharField(label=_("What was seen"), widget=forms.Textarea(attrs={**W, "rows": 3}), max_length=2000)
    needs = forms.CharField(label=_("Needs found"), required=False, widget=forms.Textarea(attrs={**W, "rows": 2}), max_length=1000)
    follow_up = forms.ChoiceField(label=_("Follow-up"), choices=m.VisitRecord.Follow.choices, widget=forms.Select(attrs=S))
    service_type = forms.ModelChoiceField(label=_("Service to order"), required=False,
                                          queryset=m.ServiceType.objects.filter(active=True), widget=forms.Select(attrs=S))
    photo = forms.ImageField(label=_("Photo"), required=False,
                             widget=forms.ClearableFileInput(attrs={**W, "accept": "image/*", "capture": "environment"}))


# ------------------------------------------------------------------ registries (providers, helpers, service types)

def _divisions(user, min_level: int = 1):
    from carenet.core.models import Division

    return Division.objects.visible_to(user).filter(level__gte=min_level, level__lte=Division.Level.COMMUNITY)


class DivisionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * (obj.level - 1)}{obj.name}"


class DivisionsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{'　' * (obj.level - 1)}{obj.name}"


class ServiceTypeForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=30, widget=forms.TextInput(attrs=W),
                           help_text=_("Letters, digits and hyphens, e.g. bath"))
    name = forms.CharField(label=_("Name"), max_length=40, widget=forms.TextInput(attrs=W))
    unit = forms.ChoiceField(label=_("Unit"), choices=m.ServiceType.Unit.choices, widget=forms.Select(attrs=S))
    price = forms.DecimalField(label=_("Price (yuan)"), min_value=0, max_digits=8, decimal_places=2,
                               widget=forms.NumberInput(attrs={**W, "step": "0.01"}))
    min_minutes = forms.IntegerField(label=_("Minimum minutes"), min_value=1, max_value=1440, widget=forms.NumberInput(attrs=W))
    max_minutes = forms.IntegerField(label=_("Maximum minutes"), min_value=1, max_value=1440, widget=forms.NumberInput(attrs=W))
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True,
                                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def clean(self):
        d = super().clean()
        if d.get("min_minutes") and d.get("max_minutes") and d["min_minutes"] > d["max_minutes"]:
            self.add_error("max_minutes", _("The maximum is below the minimum."))
        return d


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs=W))
    division = DivisionChoice(label=_("Registered in"), queryset=m.Provider.objects.none(), widget=forms.Select(attrs=S))
    areas = DivisionsChoice(label=_("Areas covered"), queryset=m.Provider.objects.none(),
                            widget=forms.SelectMultiple(attrs={**S, "size": 8}))
    contract_start = forms.DateField(label=_("Contract start"), widget=forms.DateInput(attrs={**W, "type": "date"}))
    contract_end = forms.DateField(label=_("Contract end"), widget=forms.DateInput(attrs={**W, "type": "date"}))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs=W))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = _divisions(user)
        self.fields["areas"].queryset = _divisions(user)

    def clean(self):
        d = super().clean()
        if d.get("contract_start") and d.get("contract_end") and d["contract_end"] < d["contract_start"]:
            self.add_error("contract_end", _("The contract ends before it starts."))
        return d


class HelperForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=m.Provider.objects.none(), widget=forms.Select(attrs=S))
    name = forms.CharField(label=_("Name"), max_length=50, widget=forms.TextInput(attrs=W))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs=W))
    skills = forms.ModelMultipleChoiceField(label=_("Skills"), queryset=m.ServiceType.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    certificates = forms.CharField(label=_("Certificates"), max_length=200, required=False, widget=forms.TextInput(attrs=W),
                                   help_text=_("e.g. 养老护理员（四级）, 健康证"))
    division = DivisionChoice(label=_("Service area"), queryset=m.Provider.objects.none(), widget=forms.Select(attrs=S))
    work_start = forms.TimeField(label=_("Works from"), widget=forms.TimeInput(attrs={**W, "type": "time"}, format="%H:%M"))
    work_end = forms.TimeField(label=_("Works until"), widget=forms.TimeInput(attrs={**W, "type": "time"}, format="%H:%M"))
    user = forms.ModelChoiceField(label=_("Login for the phone page"), required=False, queryset=m.Provider.objects.none(),
                                  widget=forms.Select(attrs=S))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, user, **kwargs):
        from carenet.core.models import User
        from carenet.core.roles import Role

        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = m.Provider.objects.all()
        self.fields["skills"].queryset = m.ServiceType.objects.filter(active=True)
        self.fields["division"].queryset = _divisions(user)
        self.fields["user"].queryset = User.objects.visible_to(user).filter(role=Role.HELPER, is_active=True).order_by("username")

    def clean(self):
        d = super().clean()
        if d.get("work_start") and d.get("work_end") and d["work_end"] <= d["work_start"]:
            self.add_error("work_end", _("The working hours end before they start."))
        return d
