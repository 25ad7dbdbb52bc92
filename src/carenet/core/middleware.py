from carenet.core.audit import current_request


class RequestContextMiddleware:
    """Makes the current request (user, address) available to the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the user picked another language with the switcher (cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; on a bureau's intranet that is
    often an English-default browser, and the product must open in Chinese.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class DenialAuditMiddleware:
    """Writes the DENIED audit row of a refusal raised inside a transaction, after that transaction rolled back
    (also when the view caught the refusal to show the user a message)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from carenet.core.permissions import audit_denial, in_transaction, pending_denials

        pending: list = []
        token = pending_denials.set(pending)
        try:
            return self.get_response(request)
        finally:
            pending_denials.reset(token)
            if not in_transaction():
                for exc in pending:
                    audit_denial(exc)

    def process_exception(self, request, exception):
        from carenet.core.permissions import Denied, audit_denial, in_transaction

        if isinstance(exception, Denied) and not in_transaction():
            audit_denial(exception)
        return None


# No inline script, no handler attributes, nothing from another host. Styles may be inline (Bootstrap
# components and htmx's indicator set style attributes); scripts may not. WebSockets go to this host only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY overrides it) on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
        if policy:  # an empty setting switches it off (a test does, to prove the escaping holds on its own)
            response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


class RejectControlCharactersMiddleware:
    """A NUL byte (or another C0 control other than tab and line breaks) in a query parameter or form field gets
    a clear 400 page, in the user's language, before any view runs: PostgreSQL cannot store or compare NUL in
    text, and no field of ours takes control characters. One place for every search box, filter and form."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _bad(values) -> bool:
        return any(_CONTROL.search(v) for v in values if isinstance(v, str))

    def __call__(self, request):
        from django.http import JsonResponse
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        params = [v for key in request.GET for v in [key, *request.GET.getlist(key)]]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                params += [v for key in request.POST for v in [key, *request.POST.getlist(key)]]
            except Exception:  # an unreadable body is the view's (or CSRF's) business; don't mask it here
                pass
        if self._bad(params) or "\x00" in request.path:
            reason = _("The request contains a control character (such as NUL) that no field accepts. Remove it and try again.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": reason}, status=400)
            return render(request, "400.html", {"reason": reason}, status=400)
        return self.get_response(request)


_CONTROL = __import__("re").compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
