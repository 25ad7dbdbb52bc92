import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carenet.core import list_export
from carenet.core.permissions import needs, require
from carenet.core.views import query_without_page
from carenet.devices.models import Device, Quarantine
from carenet.monitoring import engine, list_exports, services
from carenet.monitoring.state import config_for
from carenet.monitoring import selectors as monitoring_selectors
from carenet.monitoring.models import Alarm, AwayRecord, MonitorState
from carenet.people import selectors


@needs("alarms.view")
def alarm_list(request):
    f = {k: request.GET.get(k, "").strip() for k in ("status", "type", "q")}
    qs = Alarm.objects.visible_to(request.user).select_related("elder__resident", "division", "acknowledged_by")
    if f["status"] == "active" or not f["status"]:
        qs = qs.filter(status__in=Alarm.ACTIVE)
    elif f["status"] != "all":
        qs = qs.filter(status=f["status"])
    if f["type"]:
        qs = qs.filter(type=f["type"])
    if f["q"]:
        qs = qs.filter(elder__resident__name__contains=f["q"])
    if list_export.wanted(request):
        return list_exports.alarms(request, qs.order_by("severity_rank", "-raised_at"), f)
    page = Paginator(qs.order_by("severity_rank", "-raised_at"), 30).get_page(request.GET.get("page"))
    types = Alarm.objects.visible_to(request.user).values_list("type", flat=True).distinct().order_by("type")
    return render(request, "monitoring/alarm_list.html", {"page": page, "f": f, "types": types,
                                                          "statuses": Alarm.Status.choices, "query": query_without_page(request)})


@needs("devices.view")
def quarantine(request):
    # Messages of known devices are shown to staff of the device's area; unattributable ones to district staff.
    own = Q(device_ref__in=Device.objects.visible_to(request.user).values("device_id"))
    if request.user.is_superuser or (request.user.division_id and request.user.division.level == 1):
        own |= ~Q(device_ref__in=Device.objects.values("device_id"))
    qs = Quarantine.objects.filter(own)
    reason = request.GET.get("reason", "")
    since = timezone.now() - dt.timedelta(days=1)
    counts = {r["reason"]: r["n"] for r in qs.filter(received__gte=since).values("reason").annotate(n=Count("id"))}
    if reason:
        qs = qs.filter(reason=reason)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "monitoring/quarantine.html", {
        "page": page, "reason": reason, "counts": [(code, label, counts.get(code, 0)) for code, label in Quarantine.Reason.choices],
        "query": query_without_page(request)})


@needs("devices.view")
def device_list(request):
    qs = Device.objects.visible_to(request.user).select_related("elder__resident")
    state = request.GET.get("state", "")
    if state == "offline":
        qs = qs.filter(online=False)
    elif state == "low_battery":
        qs = qs.filter(battery__lt=20)
    totals = qs.aggregate(total=Count("id"), offline=Count("id", filter=Q(online=False)),
                          low=Count("id", filter=Q(battery__lt=20)))
    if list_export.wanted(request):
        return list_exports.devices(request, qs.order_by("online", "battery", "device_id"), {"state": state})
    page = Paginator(qs.order_by("online", "battery", "device_id"), 50).get_page(request.GET.get("page"))
    return render(request, "monitoring/device_list.html", {"page": page, "state": state, "totals": totals,
                                                           "query": query_without_page(request)})


class OverrideForm(forms.Form):
    inactivity_day_h = forms.FloatField(label=gettext_lazy("No activity by day, hours"), required=False, min_value=0.5, max_value=24)
    inactivity_night_h = forms.FloatField(label=gettext_lazy("No activity by night, hours"), required=False, min_value=1, max_value=24)
    bathroom_overstay_min = forms.FloatField(label=gettext_lazy("Bathroom overstay, minutes"), required=False, min_value=5, max_value=240)
    routine_check_h = forms.FloatField(label=gettext_lazy("Daily routine check by (hour)"), required=False, min_value=6, max_value=20)
    night_out_of_bed_min = forms.FloatField(label=gettext_lazy("Out of bed at night, minutes"), required=False, min_value=5, max_value=240)
    learn_thresholds = forms.TypedChoiceField(label=gettext_lazy("Learn thresholds from this home"), required=False,
                                              choices=[("", "—"), ("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))],
                                              coerce=lambda v: v == "1", empty_value=None)
    quiet_factor = forms.FloatField(label=gettext_lazy("Sensitivity: limit = longest usual quiet times"), required=False,
                                    min_value=1, max_value=4)
    pets = forms.TypedChoiceField(label=gettext_lazy("A pet lives here"), required=False,
                                  choices=[("", "—"), ("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))],
                                  coerce=lambda v: v == "1", empty_value=None)

    def overrides(self) -> dict:
        d = dict(self.cleaned_data)
        return {k: v for k, v in d.items() if v is not None and v != ""}


class AwayForm(forms.Form):
    starts_at = forms.DateTimeField(label=gettext_lazy("Away from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    expected_return = forms.DateTimeField(label=gettext_lazy("Expected back by"),
                                          widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=AwayRecord.Reason.choices)
    reporter = forms.ChoiceField(label=gettext_lazy("Reported by"), choices=AwayRecord.Reporter.choices)
    reporter_name = forms.CharField(label=gettext_lazy("Name of the person reporting"), max_length=50, required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class DeviceForm(forms.Form):
    device_id = forms.RegexField(label=gettext_lazy("Device id (serial)"), regex=r"^[A-Za-z0-9._:-]{3,64}$", max_length=64,
                                 error_messages={"invalid": gettext_lazy("3 to 64 letters, digits, dots, colons, dashes or underscores.")})
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=Device.Type.choices)
    room = forms.CharField(label=gettext_lazy("Room"), max_length=30, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Door role"), choices=Device.Role.choices, required=False)
    semantics = forms.ChoiceField(label=gettext_lazy("Semantics"), choices=Device.Semantics.choices, initial="state",
                                  required=False)
    hold_s = forms.IntegerField(label=gettext_lazy("Hold time (seconds, pulse devices)"), required=False, min_value=10,
                                max_value=7200)

    def clean_device_id(self):
        value = self.cleaned_data["device_id"]
        if Device.objects.filter(device_id=value).exists():
            raise forms.ValidationError(gettext_lazy("This device id is already registered."))
        return value


@needs("devices.manage")
def register_device(request, pk):
    elder = selectors.get_elder(request.user, pk)
    form = DeviceForm(request.POST or None)
    token = device = None
    if request.method == "POST" and form.is_valid():
        from carenet.devices.services import register_device as register

        d = form.cleaned_data
        device, token = register(request.user, elder, d["device_id"], d["type"], d["room"], d["role"] or "",
                                 semantics=d["semantics"] or "state", hold_s=d["hold_s"])
    return render(request, "monitoring/register_device.html", {"elder": elder, "form": form, "token": token,
                                                               "device": device})


@needs("devices.view")
def elder_rules(request, pk):
    elder = selectors.get_elder(request.user, pk)
    row = MonitorState.objects.filter(elder=elder).first()
    current = dict(row.overrides) if row else {}
    initial = {k: v for k, v in current.items() if k not in services.AWAY_FIELDS}
    for k in ("learn_thresholds", "pets"):
        if k in initial:
            initial[k] = "1" if initial[k] else "0"
    form = OverrideForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(request.user, "devices.manage")
        if form.is_valid():
            try:
                services.set_overrides(request.user, elder, form.overrides())
            except (ValueError, KeyError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Rules saved. They apply from now on."))
                return redirect("monitoring_elder_rules", pk=elder.pk)
    config = config_for(elder, current)
    state = engine.ElderState.from_dict(row.state) if row and row.state else engine.ElderState(elder_id=elder.pk)
    summary = engine.summary(state, config)
    tz = timezone.get_current_timezone()
    pending = engine.deadlines(state, config)
    device_checks = sorted(v for k, v in pending.items() if k.startswith("device_offline:"))
    deadlines = sorted((k, dt.datetime.fromtimestamp(v, tz)) for k, v in pending.items() if not k.startswith("device_offline:"))
    if device_checks:  # one line for all heartbeat checks: the earliest is what matters
        deadlines.insert(0, ("device_offline", dt.datetime.fromtimestamp(device_checks[0], tz)))
    return render(request, "monitoring/elder_rules.html", {
        "elder": elder, "form": form, "config": config, "summary": summary, "deadlines": deadlines,
        "devices": Device.objects.filter(elder=elder).order_by("type", "room"),
        "alarms": Alarm.objects.filter(elder=elder).order_by("-raised_at")[:10],
        "absence": monitoring_selectors.absence_status(elder), "away_records": monitoring_selectors.away_history(elder),
        "away_form": AwayForm(initial={"starts_at": timezone.localtime().replace(second=0, microsecond=0)})})


@needs("monitoring.away")
def register_away(request, pk):
    """外出报备: record an absence with its expected return (POST from the elder's rules page)."""
    elder = selectors.get_elder(request.user, pk)
    form = AwayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.register_away(request.user, elder, starts_at=d["starts_at"], expected_return=d["expected_return"],
                                   reason=d["reason"], reporter=d["reporter"], reporter_name=d["reporter_name"],
                                   note=d["note"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Absence registered. Absence alarms wait until the expected return."))
            return redirect("monitoring_elder_rules", pk=elder.pk)
    return render(request, "monitoring/away_form.html", {"elder": elder, "form": form})


@needs("monitoring.away")
def end_away(request, pk, record):
    elder = selectors.get_elder(request.user, pk)
    if request.method == "POST":
        rec = AwayRecord.objects.filter(elder=elder, pk=record).first()
        if rec is None:
            raise Http404
        try:
            services.end_away(request.user, rec.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Absence ended: the absence rules apply again."))
    return redirect("monitoring_elder_rules", pk=elder.pk)
