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
