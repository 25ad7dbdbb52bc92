import os
import sys

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

_SERVERS = ("daphne", "gunicorn", "uvicorn", "runserver")


class PolicyConfig(AppConfig):
    name = "carenet.policy"
    label = "policy"
    verbose_name = _("Policy search")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Warm start (issue 17): a web worker loads the index, the embedder and the Q&A matcher in
        # the background as it starts, so the first question is answered as fast as the others.
        argv = " ".join(os.path.basename(a) for a in sys.argv[:2])
        if os.environ.get("CARENET_POLICY_WARM", "1") != "0" and any(s in argv for s in _SERVERS):
            from carenet.policy.runtime import start_warm_up

            start_warm_up()
