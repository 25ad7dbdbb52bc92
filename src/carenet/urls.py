from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from carenet.api import api
from carenet.core import users as core_users
from carenet.core import views as core_views
from carenet.core.auth import LoginForm
from carenet.demo import trainer as demo_trainer
from carenet.demo.logins import demo_logins
from carenet.people import views as people_views

urlpatterns = [
    path("", people_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm, template_name="core/login.html",
                                                extra_context={"demo_logins": demo_logins}), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", core_views.audit_log, name="audit_log"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("carenet/favicon.svg"), permanent=True)),
    path("users/", core_users.user_list, name="user_list"),
    path("users/new/", core_users.user_edit, name="user_create"),
    path("users/<int:pk>/", core_users.user_edit, name="user_edit"),
    path("users/<int:pk>/unlock/", core_users.user_unlock, name="user_unlock"),
    path("demo/trainer/sos/", demo_trainer.trainer_sos, name="demo_trainer_sos"),
    path("people/", include("carenet.people.urls")),
    path("imports/", include("carenet.core.import_urls")),
    path("monitoring/", include("carenet.monitoring.urls")),
    path("callcenter/", include("carenet.callcenter.urls")),
    path("assistance/", include("carenet.assistance.urls")),
    path("policy/", include("carenet.policy.urls")),
    path("civic/", include("carenet.civic.urls")),
    path("open311/", include("carenet.civic.open311_urls")),
    path("matching/", include("carenet.matching.urls")),
    path("facilities/", include("carenet.facilities.urls")),
    path("", include("carenet.supervision.urls")),
    path("homecare/", include("carenet.homecare.urls")),
    path("api/", api.urls),
]
