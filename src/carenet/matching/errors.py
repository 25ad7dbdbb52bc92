class MatchingError(Exception):
    """A refusal with a message for staff (Chinese through gettext)."""
