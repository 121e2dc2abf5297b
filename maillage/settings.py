"""Settings for Maillage, read from the environment.

Every knob is an environment variable (see README, "Configuration"). The
defaults give the single-machine demo: SQLite in ``var/``, in-memory channel
layer, no outside server. Production sets ``MAILLAGE_SECRET_KEY``,
``DATABASE_URL``, ``MAILLAGE_HTTPS=1`` and ``MAILLAGE_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MAILLAGE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key comes from the environment; the demo keeps one in var/.

    A key generated once and kept on disk lets sessions survive a restart of
    ``make run`` without anyone having to invent a secret by hand.
    """
    from_env = os.environ.get("MAILLAGE_SECRET_KEY")
    if from_env:
        return from_env
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("MAILLAGE_DEBUG")
# Demo mode: demo accounts may skip the second factor; a banner says so.
DEMO_MODE = _flag("MAILLAGE_DEMO_MODE")
HTTPS = _flag("MAILLAGE_HTTPS")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("MAILLAGE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("MAILLAGE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "maillage.accounts",
    "maillage.audit",
    "maillage.territory",
    "maillage.directory",
    "maillage.patients",
    "maillage.files",
    "maillage.records",
    "maillage.regulation",
    "maillage.messaging",
    "maillage.expertise",
    "maillage.acts",
    "maillage.teleconsult",
    "maillage.agenda",
    "maillage.measurements",
    "maillage.assisted",
    "maillage.realtime",
    "maillage.fhir",
    "oauth2_provider",
    "maillage.smart",
    "maillage.fhir.bulk",
    "maillage.rtc",
    "maillage.front",
    "maillage.demo",
    "django_tasks",
    "django_tasks_db",
    "maillage.tasks",
]

# Session, language, authentication and messages are the pages' own: a FHIR
# request (bearer token only) passes by them (maillage.front.pages_only).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the rest: a preflight of a browser app is answered without a session.
    "maillage.smart.cors.cors",
    "maillage.front.middleware.content_security_policy",
    "maillage.front.middleware.private_no_store",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "maillage.front.pages_only.SessionMiddleware",
    "maillage.front.pages_only.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "maillage.front.pages_only.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "maillage.accounts.middleware.session_timeouts",
    # Over-long parameters get a 400 before any view or the admin reads them.
    "maillage.front.input_limits.InputLimitsMiddleware",
    "maillage.accounts.middleware.require_second_factor",
    "maillage.audit.middleware.audit_context",
    "maillage.front.pages_only.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the outcome of authentication for lockouts.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "maillage.urls"
ASGI_APPLICATION = "maillage.asgi.application"
# Real time (maillage.realtime): the channel layer carries events between
# processes. In memory for one process; Redis when REDIS_URL is set.
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, as long
                # as channels-redis's blocking BZPOPMIN (5 s): a receive then
                # failed with TimeoutError now and then (CI). Longer than the pop.
                "hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}],
                "prefix": "maillage:ws",
            },
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
# The server pings every so many seconds and closes a socket silent for longer.
MAILLAGE_REALTIME_HEARTBEAT_SECONDS = float(
    os.environ.get("MAILLAGE_REALTIME_HEARTBEAT_SECONDS", "25")
)
MAILLAGE_REALTIME_SILENCE_SECONDS = float(os.environ.get("MAILLAGE_REALTIME_SILENCE_SECONDS", "60"))
# Events are kept this long for clients that reconnect, then pruned.
MAILLAGE_REALTIME_KEEP_HOURS = float(os.environ.get("MAILLAGE_REALTIME_KEEP_HOURS", "72"))

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "maillage.front.context_processors.platform",
            ],
        },
    },
]

# Database: SQLite in WAL mode by default, PostgreSQL when DATABASE_URL says so.
_sqlite_path = VAR_DIR / "maillage.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Seconds a thread keeps its connection (SQLite, or PostgreSQL without its
# pool). Only where threads serve request after request (WSGI): under ASGI
# each request's code runs in a new thread, whose connection nobody closes.
_CONN_MAX_AGE = int(os.environ.get("MAILLAGE_CONN_MAX_AGE", "0"))
if DATABASE_URL:
    # Persistent connections, pooled: opening one costs about 10 ms a request.
    # Not CONN_MAX_AGE: under ASGI each request's sync code runs in a thread
    # of its own, whose connection would never be reused nor closed (Django's
    # ASGI notes); psycopg's pool hands connections across threads. With
    # CONN_HEALTH_CHECKS each checkout is checked (a connection the server
    # dropped is replaced, not handed to a view). MAILLAGE_DB_POOL_SIZE=0
    # turns pooling off: then each thread keeps its own connection for
    # MAILLAGE_CONN_MAX_AGE seconds (maillage/wsgi.py does both), checked
    # at the first query of each request.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    # PostgreSQL's own options; a sqlite:// URL (a throwaway demo database)
    # takes none of them.
    _postgresql = DATABASES["default"]["ENGINE"].endswith("postgresql")
    # No JIT: it pays off for reports, not for pages; the patient search's
    # estimate crossed jit_above_cost and compiled for 70 ms a 50 ms query.
    if _postgresql:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
        # The statements every request runs (maillage.db.statements) bind on
        # the server and are prepared at their first run on a connection;
        # Django's own queries bind in the client, which psycopg never
        # prepares. MAILLAGE_DB_PREPARE=0 for a PgBouncer older than 1.21
        # (or without max_prepared_statements), which cannot keep them.
        if os.environ.get("MAILLAGE_DB_PREPARE", "1") != "0":
            DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
    _pool_size = int(os.environ.get("MAILLAGE_DB_POOL_SIZE", "20")) if _postgresql else 0
    if _pool_size == 0:
        DATABASES["default"]["CONN_MAX_AGE"] = _CONN_MAX_AGE
    else:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_size),
            "max_size": _pool_size,
            "timeout": 20,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_sqlite_path),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue
                # instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            # A file, not memory: the browser tests' server runs in another thread.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
            "CONN_MAX_AGE": _CONN_MAX_AGE,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "front:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout after repeated failures (django-axes), per user name and address.
AXES_FAILURE_LIMIT = int(os.environ.get("MAILLAGE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "Maillage"

# Sessions and cookies. SESSION_COOKIE_AGE is also the absolute limit of a
# sign-in; a session idle for MAILLAGE_IDLE_TIMEOUT_MINUTES ends before it.
SESSION_COOKIE_AGE = 8 * 3600
MAILLAGE_IDLE_TIMEOUT_MINUTES = int(os.environ.get("MAILLAGE_IDLE_TIMEOUT_MINUTES", "30"))
# Password reset links (sent by an administrator) are valid one day.
PASSWORD_RESET_TIMEOUT = 24 * 3600
# API tokens expire; anonymous failures (unknown tokens and user names) are
# audited one by one up to a limit per address and window, then counted.
MAILLAGE_API_TOKEN_DAYS = int(os.environ.get("MAILLAGE_API_TOKEN_DAYS", "90"))
MAILLAGE_NOISE_WINDOW_SECONDS = int(os.environ.get("MAILLAGE_NOISE_WINDOW_SECONDS", "300"))
MAILLAGE_NOISE_AUDITED_PER_WINDOW = int(os.environ.get("MAILLAGE_NOISE_AUDITED_PER_WINDOW", "5"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "maillage" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _flag("MAILLAGE_COLLECTED_STATIC")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (tests, development) whitenoise serves from the apps.
WHITENOISE_USE_FINDERS = not _flag("MAILLAGE_COLLECTED_STATIC")
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MAILLAGE_LOG_LEVEL", "WARNING")},
}

# --- Maillage's own settings -------------------------------------------------

# Straight-line distance times this factor estimates the road distance.
MAILLAGE_ROAD_FACTOR = float(os.environ.get("MAILLAGE_ROAD_FACTOR", "1.3"))
# Dotted path of the distance provider (see maillage.territory.distance).
MAILLAGE_DISTANCE_PROVIDER = os.environ.get(
    "MAILLAGE_DISTANCE_PROVIDER", "maillage.territory.distance.HaversineProvider"
)
# Which INS identifier systems this installation accepts and emits:
# "production" (INS-NIR / INS-NIA), "test" (INS-NIR-TEST) or "demo" (INS-NIR-DEMO).
MAILLAGE_INS_ENVIRONMENT = os.environ.get("MAILLAGE_INS_ENVIRONMENT", "test")
# Sealed files: keys from the environment ("id:base64,..." and the current id),
# else a key file beside the database (demo). Never in the database itself.
MAILLAGE_FILE_KEYS = os.environ.get("MAILLAGE_FILE_KEYS", "")
MAILLAGE_FILE_KEY_ID = os.environ.get("MAILLAGE_FILE_KEY_ID", "")
MAILLAGE_FILE_KEY_FILE = os.environ.get("MAILLAGE_FILE_KEY_FILE", str(VAR_DIR / "file-keys.json"))
MAILLAGE_FILES_DIR = os.environ.get("MAILLAGE_FILES_DIR", str(VAR_DIR / "files"))
# FHIR bulk export ($export): its NDJSON files, sealed under the file keys, and
# how long they are kept once ready (then the job and its files are deleted).
MAILLAGE_EXPORTS_DIR = os.environ.get("MAILLAGE_EXPORTS_DIR", str(VAR_DIR / "exports"))
MAILLAGE_EXPORT_HOURS = float(os.environ.get("MAILLAGE_EXPORT_HOURS", "24"))
# Tele-expertise: how long after a request ends its specialist keeps it, and
# the place in the patient's care team the act gave (policy.expertise).
MAILLAGE_EXPERTISE_ACCESS_DAYS = float(os.environ.get("MAILLAGE_EXPERTISE_ACCESS_DAYS", "30"))
# Agenda: how long after an appointment its participants still read it; the SMS
# provider (a class with send(to, body) -> provider id; the console by default).
MAILLAGE_AGENDA_ACCESS_DAYS = float(os.environ.get("MAILLAGE_AGENDA_ACCESS_DAYS", "30"))
MAILLAGE_SMS_BACKEND = os.environ.get(
    "MAILLAGE_SMS_BACKEND", "maillage.agenda.sms.ConsoleSmsBackend"
)
# Teleconsultation (maillage.teleconsult): a professional of an act reaches the
# patient's act for this long after it ended; a guest's link lasts this long.
MAILLAGE_TELECONSULT_ACCESS_DAYS = float(os.environ.get("MAILLAGE_TELECONSULT_ACCESS_DAYS", "30"))
MAILLAGE_TELECONSULT_INVITATION_HOURS = float(
    os.environ.get("MAILLAGE_TELECONSULT_INVITATION_HOURS", "48")
)
# Audit trail keys (HMAC of every entry, of the chain head and of checkpoints):
# from the environment ("id:base64,..." and the current id), else a key file
# beside the database (demo). Never in the database itself.
MAILLAGE_AUDIT_KEYS = os.environ.get("MAILLAGE_AUDIT_KEYS", "")
MAILLAGE_AUDIT_KEY_ID = os.environ.get("MAILLAGE_AUDIT_KEY_ID", "")
MAILLAGE_AUDIT_KEY_FILE = os.environ.get(
    "MAILLAGE_AUDIT_KEY_FILE", str(VAR_DIR / "audit-keys.json")
)
# Signed checkpoints of the chain head, outside the database (best on another disk).
MAILLAGE_AUDIT_CHECKPOINT_DIR = os.environ.get(
    "MAILLAGE_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit")
)
MAILLAGE_MAX_UPLOAD_BYTES = int(os.environ.get("MAILLAGE_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# Per request, the files of a form together, and how many (the web; mail and FHIR
# are bounded by their DATA and body limits).
MAILLAGE_MAX_REQUEST_UPLOAD_BYTES = int(
    os.environ.get("MAILLAGE_MAX_REQUEST_UPLOAD_BYTES", str(2 * MAILLAGE_MAX_UPLOAD_BYTES))
)
MAILLAGE_MAX_UPLOAD_FILES = 10
# Uploaded files are limited while they stream in, then written to disk, never kept in memory.
FILE_UPLOAD_HANDLERS = [
    "maillage.files.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Request bodies above this size are spooled to a temporary file (ASGI) rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The antivirus: clamd's unix socket path or host:port; empty, no scan. Fails closed.
MAILLAGE_CLAMD = os.environ.get("MAILLAGE_CLAMD", "")
MAILLAGE_CLAMD_TIMEOUT = float(os.environ.get("MAILLAGE_CLAMD_TIMEOUT", "30"))
# A FHIR DocumentReference carries its file in base64 (4/3 of its size) in the body.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAILLAGE_MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024
# How long an emergency (break-the-glass) opening of a record lasts.
MAILLAGE_BREAK_GLASS_HOURS = float(os.environ.get("MAILLAGE_BREAK_GLASS_HOURS", "4"))
# How long a regulation case opens a patient to its regulator, at most.
MAILLAGE_REGULATION_HOURS = float(os.environ.get("MAILLAGE_REGULATION_HOURS", "24"))
# Outside mail leaves only for these domains and their subdomains (the MSSanté space).
MAILLAGE_OUTSIDE_DOMAINS = tuple(
    d.strip().lower().lstrip(".")
    for d in os.environ.get("MAILLAGE_OUTSIDE_DOMAINS", "mssante.fr").split(",")
    if d.strip()
)

# Mail: notices to people, and the secure-messaging gateway to the outside.
# Without a relay, mail is written to the console (demo).
DEFAULT_FROM_EMAIL = os.environ.get(
    "MAILLAGE_FROM_EMAIL", "Maillage <ne-pas-repondre@maillage.invalid>"
)
EMAIL_HOST = os.environ.get("MAILLAGE_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("MAILLAGE_SMTP_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("MAILLAGE_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MAILLAGE_SMTP_PASSWORD", "")
EMAIL_USE_TLS = True  # STARTTLS, always
EMAIL_TIMEOUT = 20
# CA bundle that signs the relay's certificate (IGC Santé for MSSanté), when not a public CA.
MAILLAGE_SMTP_CA_FILE = os.environ.get("MAILLAGE_SMTP_CA_FILE", "")
EMAIL_BACKEND = (
    "maillage.messaging.gateway.RelayEmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# Background work (django-tasks): the database by default (``manage.py run_worker``,
# started by ``make run``), RQ on Redis when REDIS_URL is set; under the test suite
# (PYTEST_VERSION) each task runs in its caller. MAILLAGE_TASKS_BACKEND forces one.
REDIS_URL = os.environ.get("REDIS_URL", "")
MAILLAGE_TASKS_BACKEND = os.environ.get("MAILLAGE_TASKS_BACKEND") or (
    "immediate" if "PYTEST_VERSION" in os.environ else "rq" if REDIS_URL else "database"
)
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[MAILLAGE_TASKS_BACKEND],
        "QUEUES": ["default"],
    }
}
if MAILLAGE_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
# A claimed mail or run whose worker is silent this long is taken over (worker died);
# longer than any attempt (each SMTP step is bounded by EMAIL_TIMEOUT).
MAILLAGE_TASK_CLAIM_TIMEOUT = int(os.environ.get("MAILLAGE_TASK_CLAIM_TIMEOUT", "300"))
MAILLAGE_TASK_MAX_ATTEMPTS = int(os.environ.get("MAILLAGE_TASK_MAX_ATTEMPTS", "6"))
# How often the scheduler wakes up (seconds): periodic jobs and the sweep of due work.
MAILLAGE_SCHEDULER_INTERVAL = float(os.environ.get("MAILLAGE_SCHEDULER_INTERVAL", "10"))

# Base URL used in FHIR fullUrl and paging links when behind a proxy.
MAILLAGE_PUBLIC_URL = os.environ.get("MAILLAGE_PUBLIC_URL", "")


def _oidc_private_key() -> str:
    """The RS256 key that signs id_tokens: from the environment, else a key file in var/.

    Generated on first run, like the file and audit keys of the demo, so that
    id_tokens stay verifiable across restarts without anyone making a key by hand.
    """
    from_env = os.environ.get("MAILLAGE_OIDC_KEY", "")
    if from_env:
        return from_env
    key_file = Path(os.environ.get("MAILLAGE_OIDC_KEY_FILE", str(VAR_DIR / "oidc-key.pem")))
    if not key_file.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Created private and only once: a second process starting at the
            # same moment reads the first one's key instead of writing its own.
            fd = os.open(key_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    return key_file.read_text()


# The toolkit's own models; named so that maillage.smart's migration can depend on them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
# SMART App Launch (maillage.smart) on django-oauth-toolkit. Applications are
# registered by an administrator (admin site); there is no dynamic registration.
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "OIDC_ISS_ENDPOINT": f"{MAILLAGE_PUBLIC_URL.rstrip('/')}/o" if MAILLAGE_PUBLIC_URL else "",
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "SCOPES": {"openid": "OpenID Connect", "fhirUser": "FHIR user"},
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "maillage.smart.descriptions.SmartScopes",
    "OAUTH2_VALIDATOR_CLASS": "maillage.smart.validator.SmartValidator",
    "PKCE_REQUIRED": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("MAILLAGE_OAUTH_TOKEN_SECONDS", "3600")),
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Loopback http for native apps and tests; https only once the site is.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if HTTPS else ["http", "https"],
    # RFC 9700: no implicit or password grant, no "plain" PKCE, no token in
    # the query string, tokens kept hashed, the issuer in each authorization response.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
}

# Entries a FHIR batch or transaction may hold (a Synthea patient's bundle has a few hundred).
MAILLAGE_FHIR_MAX_BUNDLE_ENTRIES = int(os.environ.get("MAILLAGE_FHIR_MAX_BUNDLE_ENTRIES", "1000"))

# Video room network (maillage.rtc; docs/deploy.md, "TURN"). Comma-separated
# stun:/turn:/turns: URLs. TURN credentials are coturn's REST-API ones, made
# per participant from the shared secret (turnserver.conf static-auth-secret)
# and valid MAILLAGE_TURN_TTL_SECONDS; a fixed user name and password only for
# a relay without that API. MAILLAGE_ICE_TRANSPORT_POLICY=relay forces every
# call through TURN. Video is capped at MAILLAGE_VIDEO_MAX_KBPS (150-300 for
# village lines); the browser lowers it further, then goes to audio only.
MAILLAGE_STUN_URLS = os.environ.get("MAILLAGE_STUN_URLS", "")
MAILLAGE_TURN_URLS = os.environ.get("MAILLAGE_TURN_URLS", "")
MAILLAGE_TURN_SECRET = os.environ.get("MAILLAGE_TURN_SECRET", "")
MAILLAGE_TURN_USERNAME = os.environ.get("MAILLAGE_TURN_USERNAME", "")
MAILLAGE_TURN_PASSWORD = os.environ.get("MAILLAGE_TURN_PASSWORD", "")
MAILLAGE_TURN_TTL_SECONDS = int(os.environ.get("MAILLAGE_TURN_TTL_SECONDS", str(3 * 3600)))
MAILLAGE_ICE_TRANSPORT_POLICY = os.environ.get("MAILLAGE_ICE_TRANSPORT_POLICY", "all")
MAILLAGE_VIDEO_MAX_KBPS = int(os.environ.get("MAILLAGE_VIDEO_MAX_KBPS", "250"))
