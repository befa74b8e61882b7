"""Configuration from the environment. Outside production a secret key is generated once and
kept in instance/, so sessions survive restarts without anyone having to set one."""
from __future__ import annotations

import os
import secrets


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "fieldapp.db")
    # Plain postgres URLs mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: str, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when FIELDAPP_ENV=production")
    path = os.path.join(instance_path, "secret_key")
    if os.path.exists(path):
        with open(path) as handle:
            return handle.read().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: str) -> dict:
    env = os.environ.get("FIELDAPP_ENV", "development")
    production = env == "production"
    return {
        "FIELDAPP_ENV": env,
        "SECRET_KEY": secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BLOB_ROOT": os.environ.get("FIELDAPP_BLOB_DIR", os.path.join(instance_path, "blobs")),
        "BLOB_MAX_BYTES": int(os.environ.get("FIELDAPP_BLOB_MAX_BYTES", 15 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "FIELDAPP_TIMEZONE": os.environ.get("FIELDAPP_TIMEZONE", "Asia/Shanghai"),
        "AUTO_SEED_DEMO": not production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed sign-ins allowed per client address and user name before 429.
        "LOGIN_FAILURE_LIMIT": os.environ.get("FIELDAPP_LOGIN_LIMIT", "5 per minute;20 per hour"),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("zh_CN", "en"),
        "API_TITLE": "fieldapp API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "WTF_CSRF_TIME_LIMIT": None,
    }
