"""Checks every upload passes before anything is stored: a size cap, and for photos a real image (Pillow reads
and verifies it; the stored content type is the one Pillow found, not the one the browser claimed)."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Formats Pillow can verify and every staff browser shows. SVG (script) and HTML are never accepted.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def max_photo_bytes() -> int:
    return getattr(settings, "CARENET_MAX_PHOTO_BYTES", 10 * 1024 * 1024)


def max_import_bytes() -> int:
    return getattr(settings, "CARENET_MAX_IMPORT_BYTES", 15 * 1024 * 1024)


def check_size(upload, limit: int) -> None:
    size = getattr(upload, "size", None)
    if size is None or size > limit:
        raise ValidationError(_("The file “%(name)s” is too large (%(size)s); at most %(limit)s is accepted.")
                              % {"name": getattr(upload, "name", ""), "size": filesizeformat(size or 0),
                                 "limit": filesizeformat(limit)}, code="too_large")


def check_image(upload) -> str:
    """The upload's real content type, or ValidationError (too large, not an image, damaged, or too many pixels)."""
    from PIL import Image, UnidentifiedImageError

    check_size(upload, max_photo_bytes())
    not_image = ValidationError(_("“%(name)s” is not a photo (JPEG, PNG, WebP or GIF) or it is damaged.")
                                % {"name": getattr(upload, "name", "")}, code="not_image")
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise not_image from None
    finally:
        upload.seek(0)
    if fmt not in IMAGE_FORMATS:
        raise not_image
    return IMAGE_FORMATS[fmt]
