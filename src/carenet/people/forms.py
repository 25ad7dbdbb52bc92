import datetime as dt

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from carenet.core import idcard
from carenet.core.models import Division
from carenet.people.models import Category, ElderProfile, EmergencyContact, HealthArchive, Resident
from carenet.people.selectors import resident_by_id_number_districtwide
from carenet.people.services import DUPLICATE_ID_MESSAGE


ELDER_MIN_AGE = 60


class ElderForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=50)
    sex = forms.ChoiceField(label=_("sex"), choices=Resident.Sex.choices)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False,
                                help_text=_("18 characters. Leave blank to keep the current number."))
    birth_date = forms.DateField(label=_("birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    division = forms.ModelChoiceField(label=_("community / grid"), queryset=Division.objects.none())
    lat = forms.FloatField(label=_("latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("longitude"), required=False, min_value=-180, max_value=180)
    living = forms.ChoiceField(label=_("living situation"), choices=ElderProfile.Living.choices)
    care_level = forms.ChoiceField(label=_("care level"), choices=ElderProfile.CareLevel.choices)
    dementia = forms.BooleanField(label=_("dementia"), required=False)
    key_elder = forms.BooleanField(label=_("key elder (weekly visits)"), required=False)
    categories = forms.MultipleChoiceField(label=_("special categories"), choices=Category.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, resident: Resident | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = resident
        self.user = user
        self.fields["division"].queryset = Division.objects.visible_to(user).filter(level__gte=Division.Level.COMMUNITY)
        if resident is None:
            self.fields["id_number"].required = True
            self.fields["id_number"].help_text = _("18 characters, checked against the GB 11643 check character.")
        self.parsed_id = None

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        if not raw:
            return ""
        try:
            self.parsed_id = idcard.parse(raw)
        except idcard.IdNumberError as exc:
            raise forms.ValidationError(exc.text(get_language()), code=exc.code) from None
        # One person, one record, so the check is district-wide (and audited); the answer tells nothing about
        # the record found: no name, area or link (docs/architecture.md, Privacy).
        found = resident_by_id_number_districtwide(self.user, self.parsed_id.number, why="elder form duplicate check")
        if found is not None and (self.resident is None or found.pk != self.resident.pk):
            raise forms.ValidationError(DUPLICATE_ID_MESSAGE, code="id_duplicate")
        return self.parsed_id.number

    def clean(self):
        data = super().clean()
        parsed = self.parsed_id
        if parsed is None and self.resident is not None and not self.errors.get("id_number"):
            parsed = idcard.parse(self.resident.id_number)
        if parsed is not None:
            for problem in idcard.cross_check(parsed, data.get("sex"), data.get("birth_date")):
                self.add_error("sex" if problem.code == "id_sex" else "birth_date", problem.text(get_language()))
        birth = data.get("birth_date")
        if birth:
            today = dt.date.today()
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            if age < ELDER_MIN_AGE:
                self.add_error("birth_date", _("An elder profile needs an age of 60 or more (this person is %(age)s).") % {"age": age})
        return data


class HealthArchiveForm(forms.ModelForm):
    class Meta:
        model = HealthArchive
        fields = ["blood_type", "chronic_conditions", "allergies", "medications", "medical_history", "family_doctor",
                  "doctor_phone", "hospital"]
        widgets = {k: forms.Textarea(attrs={"rows": 2}) for k in ["chronic_conditions", "allergies", "medications",
                                                                   "medical_history"]}


ContactFormSet = inlineformset_factory(
    ElderProfile, EmergencyContact, fields=["order", "name", "relation", "phone", "key_holder", "lives_nearby"],
    extra=1, can_delete=True,
)
