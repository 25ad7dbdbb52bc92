"""The one store for uploaded photos and documents (assistance, civic, facilities, home care).

Files live under VAR_DIR/media (read at use, so tests can point it elsewhere) and are served only through
access-checked views, never as public static files.
"""
from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


# Migrations already record `carenet.assistance.models.MediaStorage()` (home care's 0001): keep deconstructing to
# that path, which assistance.models re-exports, so folding the copies into core changes no migration.
@deconstructible(path="carenet.assistance.models.MediaStorage")
class MediaStorage(FileSystemStorage):
    @property
    def base_location(self):
        return str(settings.VAR_DIR / "media")

    @property
    def location(self):
        return os.path.abspath(self.base_location)


media_storage = MediaStorage()
