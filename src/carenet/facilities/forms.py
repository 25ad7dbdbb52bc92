from django import forms
from django.utils.translation import gettext_lazy as _

from carenet.core.models import Division
from carenet.facilities import models as m


class FacilityForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    class Meta:
        model = m.Facility
        fields = ["name", "type", "division", "address", "lat", "lon", "building_area", "activity_area", "beds",
                  "nursing_beds", "meal_capacity", "licence_no", "operator", "operating_model", "parent_center",
                  "phone"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = Division.objects.filter(_subtree(user), level__lte=3)
        self.fields["parent_center"].queryset = m.Facility.objects.visible_to(user).filter(type="center")
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-select form-select-sm" if isinstance(f.widget, forms.Select)
                                      else "form-control form-control-sm")

    def clean(self):
        data = super().clean()
        beds, nursing = data.get("beds") or 0, data.get("nursing_beds") or 0
        if nursing > beds:
            self.add_error("nursing_beds", _("Nursing-type beds cannot exceed all beds."))
        lat, lon = data.get("lat"), data.get("lon")
        if lat is not None and not (-90 <= lat <= 90):
            self.add_error("lat", _("Latitude must be between -90 and 90."))
        if lon is not None and not (-180 <= lon <= 180):
            self.add_error("lon", _("Longitude must be between -180 and 180."))
        return data


def _subtree(user):
    from carenet.core.scoping import user_subtree_q
    return user_subtree_q(user, "path")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=m.Facility.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class InspectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Inspection"), choices=m.Inspection.Kind.choices)
    inspected_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
