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


# Session cookies, remember-me cookies and survey tokens are all signed with SECRET_KEY.
MIN_SECRET_BYTES = 32


def check_secret_key(key: str, production: bool) -> None:
    """In production a short key is refused at start: it could be guessed offline from one
    signed cookie, and then anyone could forge a session."""
    size = len((key or "").encode())
    if production and size < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"SECRET_KEY has {size} bytes; with FIELDAPP_ENV=production it needs at least "
            f"{MIN_SECRET_BYTES} random bytes, e.g. the output of "
            f"`python -c 'import secrets; print(secrets.token_hex(32))'`")


def secret_key(instance_path: str, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        check_secret_key(key, production)
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
        # SQLite: FULL makes every acknowledged commit survive a power cut (fieldapp/db.py).
        "SQLITE_SYNCHRONOUS": os.environ.get("FIELDAPP_SQLITE_SYNCHRONOUS", "FULL").upper(),
        "BLOB_ROOT": os.environ.get("FIELDAPP_BLOB_DIR", os.path.join(instance_path, "blobs")),
        # "file" (BLOB_ROOT) or "s3://bucket/prefix" (fieldapp/blobstore.py); boto3 reads the
        # AWS_ENDPOINT_URL and AWS_* credentials itself.
        "BLOB_STORE_URL": os.environ.get("FIELDAPP_BLOB_STORE", "file"),
        "AWS_REGION": os.environ.get("AWS_REGION") or None,
        "BLOB_MAX_BYTES": int(os.environ.get("FIELDAPP_BLOB_MAX_BYTES", 15 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "FIELDAPP_TIMEZONE": os.environ.get("FIELDAPP_TIMEZONE", "Asia/Shanghai"),
        # Where customers reach this server: the survey links sent to them start with it.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "AUTO_SEED_DEMO": not production,
        "DEMO_HISTORY": os.environ.get("FIELDAPP_DEMO_HISTORY", "1") != "0",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # memory:// counts per process; redis://host:6379/0 shares the counts between app
        # servers (docs/reliability.md). Were Redis down, each process counts on its own
        # meanwhile rather than every sign-in failing.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("FIELDAPP_RATELIMIT_KEY_PREFIX", "fieldapp"),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Scripts, styles and JSON go out compressed (Flask-Compress); HTML pages do not, as
        # they carry CSRF tokens beside text a visitor can choose (BREACH).
        "COMPRESS_MIMETYPES": ["text/css", "text/javascript", "application/javascript",
                               "application/json", "application/manifest+json",
                               "image/svg+xml"],
        # Failed sign-ins allowed per client address and user name before 429, and per
        # address across all user names (password spraying); web and API count together.
        "LOGIN_FAILURE_LIMIT": os.environ.get("FIELDAPP_LOGIN_LIMIT", "5 per minute;20 per hour"),
        "LOGIN_ADDRESS_LIMIT": os.environ.get("FIELDAPP_LOGIN_ADDRESS_LIMIT",
                                              "10 per minute;50 per hour"),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("zh_CN", "en"),
        "API_TITLE": "fieldapp API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "WTF_CSRF_TIME_LIMIT": None,
        # werkzeug's method for new password hashes (the tests set a cheap "pbkdf2:sha256:1000").
        "PASSWORD_HASH_METHOD": "scrypt",
        # Issue 7: timed work and the notification outbox (README "Scheduled work").
        "SCHEDULER_ENABLED": _flag("FIELDAPP_SCHEDULER", True),
        "SCHEDULER_INTERVAL": int(os.environ.get("FIELDAPP_SCHEDULER_INTERVAL", 60)),
        "REMINDER_HOUR": int(os.environ.get("FIELDAPP_REMINDER_HOUR", 17)),
        "STALE_DEVICE_HOURS": float(os.environ.get("FIELDAPP_STALE_DEVICE_HOURS", 24)),
        "BLOB_RETENTION_DAYS": float(os.environ.get("FIELDAPP_BLOB_RETENTION_DAYS", 30)),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 25)),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_SENDER": os.environ.get("MAIL_SENDER") or None,
        "WEBHOOK_URL": os.environ.get("FIELDAPP_WEBHOOK_URL") or None,
        "WEBHOOK_SECRET": os.environ.get("FIELDAPP_WEBHOOK_SECRET") or None,
        # Staff notices also go out by "email" and/or "webhook" (comma-separated); in-app always.
        "NOTIFY_CHANNELS": os.environ.get("FIELDAPP_NOTIFY_CHANNELS", ""),
    }


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")
