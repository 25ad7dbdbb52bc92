"""User management for district administrators: accounts in their own area only, every change audited."""
from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import validate_password
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carenet.core import audit, services
from carenet.core.models import Division, User
from carenet.core.permissions import needs
from carenet.core.roles import Role
from carenet.core.scoping import path_visible_to
from carenet.core.views import query_without_page


class UserForm(forms.ModelForm):
    password = forms.CharField(label=gettext_lazy("New password"), required=False, widget=forms.PasswordInput,
                               help_text=gettext_lazy("At least 8 characters; leave blank to keep the current one."))

    class Meta:
        model = User
        fields = ["username", "first_name", "role", "division", "phone", "is_active"]

    def __init__(self, *args, admin, **kwargs):
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.fields["division"].queryset = Division.objects.visible_to(admin)
        self.fields["division"].required = True
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = gettext_lazy("At least 8 characters.")

    def clean_division(self):
        division = self.cleaned_data["division"]
        if not path_visible_to(self.admin, division.path):
            raise forms.ValidationError(_("You can only assign divisions in your own area."))
        return division

    def clean(self):
        data = super().clean()
        if data.get("password"):
            try:
                validate_password(data["password"], self.instance)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        if self.instance.pk == self.admin.pk and data.get("role") != self.admin.role:
            self.add_error("role", _("You cannot change your own role."))
        return data


@needs("users.manage")
def user_list(request):
    q = request.GET.get("q", "").strip()
    qs = User.objects.visible_to(request.user).select_related("division").order_by("division__path", "username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(first_name__icontains=q))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/user_list.html", {"page": page, "q": q, "query": query_without_page(request),
                                                   "throttled": throttled_usernames()})


@needs("users.manage")
def user_edit(request, pk=None):
    target = get_object_or_404(User.objects.visible_to(request.user), pk=pk) if pk else User()
    before = audit.snapshot(target) if pk else None
    form = UserForm(request.POST or None, instance=target, admin=request.user)
    if request.method == "POST" and form.is_valid():
        services.save_user(request.user, form.save(commit=False), password=form.cleaned_data.get("password") or "",
                           before=before)
        messages.success(request, _("Saved."))
        return redirect("user_list")
    return render(request, "core/user_form.html", {"form": form, "target": target, "roles": Role.CHOICES})


@needs("users.manage")
@require_POST
def user_unlock(request, pk):
    target = get_object_or_404(User.objects.visible_to(request.user), pk=pk)
    services.unlock_user(request.user, target)
    messages.success(request, _("Account %(name)s unlocked.") % {"name": target.username})
    return redirect("user_list")


def throttled_usernames() -> set[str]:
    """Accounts locked out from at least one address by the login throttle (django-axes)."""
    from axes.models import AccessAttempt
    from django.conf import settings

    return set(AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
               .values_list("username", flat=True))
