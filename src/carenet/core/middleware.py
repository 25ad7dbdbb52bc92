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
