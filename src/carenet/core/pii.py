"""Encryption at rest and keyed hashing of personal identifiers (no Django models here)."""
from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@functools.lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def _hash_key(key: str) -> bytes:
    # A separate key for hashing, derived from the encryption key, so the two are never the same bytes.
    return hashlib.sha256(b"carenet-pii-hash:" + key.encode()).digest()


def encrypt(value: str) -> str:
    return _fernet(settings.PII_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.PII_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered data: never return garbage
        raise ValueError("cannot decrypt personal identifier: wrong CARENET_PII_KEY or corrupted value") from exc


def lookup_hash(value: str) -> str:
    """Keyed hash for exact lookup: equal numbers give equal hashes; the number cannot be recovered."""
    return hmac.new(_hash_key(settings.PII_KEY), value.encode(), hashlib.sha256).hexdigest()


def encrypt_bytes(data: bytes) -> bytes:
    """Whole files holding personal identifiers (a staged upload) are stored encrypted too."""
    return _fernet(settings.PII_KEY).encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet(settings.PII_KEY).decrypt(bytes(token))
    except InvalidToken as exc:
        raise ValueError("cannot decrypt stored file: wrong CARENET_PII_KEY or corrupted value") from exc
