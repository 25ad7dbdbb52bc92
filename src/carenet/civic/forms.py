from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine.common import choice_text, choices

BIG = "form-control form-control-lg"


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultiFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > services.MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)s photos can be attached.") % {"n": services.MAX_PHOTOS})
        for f in files:
            try:
                services.check_photo(f)
            except services.CivicServiceError as exc:
                raise forms.ValidationError(str(exc)) from None
        return files


def photos_field(big=True):
    return PhotosField(label=_("Photos (documents, the problem)"), required=False, widget=MultiFileInput(
        attrs={"class": BIG if big else "form-control", "accept": "image/*", "capture": "environment"}))


class ItemForm(forms.Form):
    """The item's own form fields (Open311 attributes), built from the catalogue, with large inputs."""

    def __init__(self, item: m.ServiceItem, *args, big=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        css = BIG if big else "form-control"
        for f in item.fields:
            kw = {"label": f["label"], "required": f.get("required", True), "help_text": f.get("help", "")}
            dt = f["datatype"]
            if dt == "text":
                field = forms.CharField(widget=forms.Textarea(attrs={"class": css, "rows": 3}), max_length=2000, **kw)
            elif dt == "number":
                field = forms.DecimalField(widget=forms.NumberInput(attrs={"class": css, "inputmode": "decimal"}), **kw)
            elif dt == "datetime":
                field = forms.DateField(widget=forms.DateInput(attrs={"class": css, "type": "date"}), **kw)
            elif dt == "singlevaluelist":
                field = forms.ChoiceField(choices=[("", "—")] + choices(f),
                                          widget=forms.Select(attrs={"class": css.replace("form-control", "form-select")}), **kw)
            elif dt == "multivaluelist":
                field = forms.MultipleChoiceField(choices=choices(f),
                                                  widget=forms.CheckboxSelectMultiple, **kw)
            else:
                field = forms.CharField(widget=forms.TextInput(attrs={"class": css}), max_length=200, **kw)
            self.fields["f_" + f["code"]] = field
        self.fields["description"] = forms.CharField(
            label=_("Anything else we should know"), required=False, max_length=2000,
            widget=forms.Textarea(attrs={"class": css, "rows": 2}))
        self.fields["photos"] = photos_field(big)

    def answers(self) -> dict:
        out = {}
        for f in self.item.fields:
            v = self.cleaned_data.get("f_" + f["code"])
            if v in (None, "", []):
                continue
            out[f["code"]] = v if isinstance(v, list) else (v.isoformat() if hasattr(v, "isoformat") else str(v))
        return out


class HomeLoginForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=20,
                            widget=forms.TextInput(attrs={"class": BIG, "inputmode": "tel", "autocomplete": "tel"}))
    code = forms.CharField(label=_("Access code (6 digits, from your community)"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"class": BIG, "inputmode": "numeric",
                                                         "autocomplete": "one-time-code"}))


class ConsentForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput)
    consent_note = forms.CharField(
        label=_("Consent of the resident (how and when they agreed)"), max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("e.g. agreed by phone today at 10:20")}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}))


class CommunityForm(forms.Form):
    division = forms.ModelChoiceField(queryset=None, label=_("Community"),
                                      widget=forms.Select(attrs={"class": "form-select"}))
    category = forms.ChoiceField(label=_("Type"), choices=m.Category.choices,
                                 widget=forms.Select(attrs={"class": "form-select"}))
    source = forms.ChoiceField(label=_("Source"), choices=m.Source.choices,
                               widget=forms.Select(attrs={"class": "form-select"}))
    title = forms.CharField(label=_("Title"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"}))
    description = forms.CharField(label=_("What residents ask for"),
                                  widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))
    reporter_name = forms.CharField(label=_("Reported by"), required=False, max_length=50,
                                    widget=forms.TextInput(attrs={"class": "form-control"}))
    reporter_phone = forms.CharField(label=_("Phone"), required=False, max_length=20,
                                     widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}))
    location = forms.CharField(label=_("Place"), required=False, max_length=200,
                               widget=forms.TextInput(attrs={"class": "form-control"}))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def __init__(self, *args, divisions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions


class WishForm(forms.Form):
    division = forms.ModelChoiceField(queryset=None, label=_("Community"),
                                      widget=forms.Select(attrs={"class": "form-select"}))
    title = forms.CharField(label=_("Wish"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"}))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}))

    def __init__(self, *args, divisions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions


class CatalogueItemForm(forms.ModelForm):
    documents_text = forms.CharField(label=_("Documents needed (one per line)"), required=False,
                                     widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))

    class Meta:
        model = m.ServiceItem
        fields = ["code", "name", "category", "department", "deadline_days", "fully_online", "help_text", "active"]
        widgets = {k: forms.TextInput(attrs={"class": "form-control"}) for k in ("code", "name", "category", "department")}
        widgets.update({"deadline_days": forms.NumberInput(attrs={"class": "form-control", "min": 1, "max": 365}),
                        "help_text": forms.Textarea(attrs={"class": "form-control", "rows": 3}),
                        "fully_online": forms.CheckboxInput(attrs={"class": "form-check-input"}),
                        "active": forms.CheckboxInput(attrs={"class": "form-check-input"})})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["documents_text"].initial = "\n".join(self.instance.documents)


FIELD_TYPE_CHOICES = [("string", _("Short text")), ("text", _("Long text")), ("number", _("Number")),
                      ("datetime", _("Date")), ("singlevaluelist", _("One choice")),
                      ("multivaluelist", _("Several choices"))]


def field_rows_from_post(post) -> list[dict]:
    """The field editor's rows (f-N-code, f-N-label, f-N-datatype, f-N-required, f-N-values) as a field list."""
    rows = []
    for i in range(60):
        code, label = post.get(f"f-{i}-code", "").strip(), post.get(f"f-{i}-label", "").strip()
        if not code and not label:
            continue
        values = [choice_text(v) for v in post.get(f"f-{i}-values", "").replace("，", "、").replace(",", "、").split("、")
                  if v.strip()]
        rows.append({"code": code, "label": label, "datatype": post.get(f"f-{i}-datatype", "string"),
                     "required": post.get(f"f-{i}-required") == "on", "values": values})
    return rows
