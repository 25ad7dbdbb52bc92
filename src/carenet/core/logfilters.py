"""Logging filters: a refused or missing page is an everyday event, not a crash."""
import logging


class QuietClientErrors(logging.Filter):
    """Drop the traceback from django.request records of 4xx answers (403, 404); keep it for 5xx."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
