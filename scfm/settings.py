"""Django settings for SCFM. Every setting comes from an environment variable (see README.md)."""

import ipaddress
import logging
import os
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SCFM_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


SECRET_KEY = os.environ.get("SECRET_KEY", "scfm-insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
PORT = env_int("PORT", 8000)
SCFM_PUBLIC_URL = os.environ.get("SCFM_PUBLIC_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
# Set: absolute URLs the API hands out (pagination Link headers) start with SCFM_PUBLIC_URL, whatever the request's
# Host and scheme (scfm/public_urls.py). Unset: they follow the request.
SCFM_PUBLIC_URL_CONFIGURED = bool(os.environ.get("SCFM_PUBLIC_URL", "").strip())
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto / X-Forwarded-Host (and overwrites whatever a
# client sent in them): trust those headers, so request.is_secure() and request-built URLs say https and the public
# host. Off by default: without such a proxy in front, a client could forge them.
SCFM_TRUSTED_PROXY = env_bool("SCFM_TRUSTED_PROXY", False)
if SCFM_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    USE_X_FORWARDED_PORT = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "axes",  # failed dashboard sign-ins are rate-limited (AXES_* below)
    "django.contrib.sessions",  # the dashboard's sign-in (database sessions); the API stays token-only
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc, pinned and served by the app (no CDN: closed networks)
    "django_prometheus",  # HTTP and database metrics for /metrics (scfm/metrics.py)
    "scfm",
    "accounts",
    "contacts",
    "callouts",
    "batch_operations",
    "phone_calls",
    "call_flow_logic",
    "dashboard",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first and last: every request is timed and counted
    "scfm.middleware.RequestIdMiddleware",
    "scfm.middleware.EdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files (the API docs' assets) from the app itself
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # DRF views are csrf_exempt and the webhooks are too: CSRF checks bite on the dashboard's forms only
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.middleware.DashboardLocaleMiddleware",  # LocaleMiddleware on /dashboard paths only
    "dashboard.middleware.DashboardUserMiddleware",  # the signed-in user's language, the account's time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # answers a locked-out sign-in (AXES_LOCKOUT_CALLABLE); after auth, as axes asks
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Request limits (scfm.middleware.EdgeMiddleware answers past them with 413/400 in the API's JSON error shape).
# A body, or the non-file fields of a multipart body, may be SCFM_MAX_REQUEST_BODY_SIZE bytes (2.5 MiB) with at most
# SCFM_MAX_REQUEST_FIELDS fields; a multipart upload (a contact import's CSV file) SCFM_UPLOAD_MAX_SIZE bytes
# (200 MiB: a 1,000,000-row CSV is about 60 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SCFM_MAX_REQUEST_BODY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("SCFM_MAX_REQUEST_FIELDS", 1000)
SCFM_UPLOAD_MAX_SIZE = env_int("SCFM_UPLOAD_MAX_SIZE", 200 * 1024 * 1024)
# An uploaded callout audio file (callouts/audio.py): at most SCFM_AUDIO_MAX_SIZE bytes (10 MiB: a spoken warning
# of a few minutes as MP3 is well under 5 MB).
SCFM_AUDIO_MAX_SIZE = env_int("SCFM_AUDIO_MAX_SIZE", 10 * 1024 * 1024)

ROOT_URLCONF = "scfm.urls"
WSGI_APPLICATION = "scfm.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DEFAULT_SQLITE_URL = f"sqlite:///{DATA_DIR / 'scfm.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith(".sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# the same backends wrapped by django-prometheus, so /metrics counts queries, errors and connections per database
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends.", 1
)
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("km", "ខ្មែរ")]
LOCALE_PATHS = [BASE_DIR / "dashboard" / "locale"]
USE_I18N = True

# The dashboard (/dashboard/): session sign-in with email + password.
LOGIN_URL = "/dashboard/login"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/dashboard/login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Sign-in by email, any case (accounts/backends.py), behind django-axes: SCFM_LOGIN_FAILURE_LIMIT wrong passwords
# for one email from one address lock that pair out for SCFM_LOGIN_COOLOFF_MINUTES (a 429 with the message on the
# login page). The API's token authentication never goes through these backends.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.EmailBackend"]
AXES_FAILURE_LIMIT = env_int("SCFM_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = float(os.environ.get("SCFM_LOGIN_COOLOFF_MINUTES", 15)) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # Django's AuthenticationForm names the email field "username"
AXES_USERNAME_CALLABLE = "dashboard.views.auth.attempted_email"
AXES_LOCKOUT_CALLABLE = "dashboard.views.auth.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
if SCFM_TRUSTED_PROXY:  # the client's address is the one the trusted proxy appended to X-Forwarded-For
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"
# Cookies only over HTTPS when the dashboard is served over HTTPS: SCFM_SECURE_COOKIES, by default on when
# SCFM_PUBLIC_URL starts with https:// (unset or empty; behind a TLS proxy also SCFM_TRUSTED_PROXY).
SCFM_SECURE_COOKIES = (
    env_bool("SCFM_SECURE_COOKIES")
    if os.environ.get("SCFM_SECURE_COOKIES", "").strip()
    else SCFM_PUBLIC_URL.startswith("https://")
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SCFM_SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SCFM_SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
if SCFM_PUBLIC_URL_CONFIGURED:  # a form posted from the public address passes the CSRF origin check
    CSRF_TRUSTED_ORIGINS = [SCFM_PUBLIC_URL.split("/", 3)[0] + "//" + SCFM_PUBLIC_URL.split("/", 3)[2]]
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True  # serve straight from the installed apps: no collectstatic step for `make run`
MEDIA_ROOT = DATA_DIR / "media"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@scfm.local")
# How long an invitation link (accounts/invitations.py) and a password-reset link work.
SCFM_INVITATION_DAYS = env_int("SCFM_INVITATION_DAYS", 7)
PASSWORD_RESET_TIMEOUT = env_int("SCFM_PASSWORD_RESET_HOURS", 24) * 3600

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["scfm.api.permissions.ResourcePermission"],
    "DEFAULT_PARSER_CLASSES": [
        "scfm.api.parsers.JSONBodyParser",
        "scfm.api.parsers.BracketFormParser",
        "scfm.api.parsers.BracketMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "scfm.api.pagination.HeaderPagination",
    "DEFAULT_FILTER_BACKENDS": ["scfm.api.filters.QueryFilterBackend", "scfm.api.filters.SortBackend"],
    "EXCEPTION_HANDLER": "scfm.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "scfm.api.schema.ResourceAutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SCFM API",
    "DESCRIPTION": "Simple Call Flow Manager: contacts, callouts, batch operations, phone calls and IVR call flows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the provider webhooks (plain Django views, outside DRF) added as form-encoded operations
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "phone_calls.api.webhook_schema.add_webhook_operations",
    ],
    # one named enum per set of values (several models have a `status`); the events each resource takes
    "ENUM_NAME_OVERRIDES": {
        "CalloutStatusEnum": "callouts.models.Callout.Status",
        "PlatformProviderEnum": "accounts.models.PlatformProvider",
        "BatchOperationStatusEnum": "batch_operations.models.BatchOperation.Status",
        "BatchOperationTypeEnum": "batch_operations.models.BatchOperation.Type",
        "PhoneCallStatusEnum": "phone_calls.statuses.PhoneCallStatus",
        "ContactImportStatusEnum": "contacts.models.ContactImport.Status",
        "CalloutEventEnum": "callouts.services.CALLOUT_EVENTS",
        "BatchOperationEventEnum": "batch_operations.services.EVENTS",
        "PhoneCallEventEnum": "phone_calls.services.PHONE_CALL_EVENTS",
        "UserEventEnum": ["invite"],
    },
}

# Single-tenant HTTP Basic mode (rest-api-v1.md): these credentials act as the super-admin account.
HTTP_BASIC_AUTH_USER = os.environ.get("HTTP_BASIC_AUTH_USER") or None
HTTP_BASIC_AUTH_PASSWORD = os.environ.get("HTTP_BASIC_AUTH_PASSWORD") or None

# Celery: Redis in production; by default (laptop mode) an embedded file-system broker that needs no server:
# scfm/broker.py explains the choice and what it adds to kombu's transport (bench/results/laptop.md measures it).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control", "tmp", "unacked", "corrupt"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "scfm.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Status polling has a queue of its own: workers consume both queues in turn, so a backlog of fetches (a provider
# that stopped sending callbacks) never holds up dialling.
# The periodic jobs have a queue of their own too: a scheduler tick expires one interval after it is sent, so behind
# a backlog of dials in `celery` every tick would be dropped.
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("polling", routing_key="polling"),
    Queue("scheduler", routing_key="scheduler"),
)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "phone_calls.tasks.fetch_remote_call": {"queue": "polling"},
    "phone_calls.tasks.find_unrecorded_call": {"queue": "polling"},
    "phone_calls.recording_tasks.*": {"queue": "polling"},
    "phone_calls.tasks.scheduler_tick": {"queue": "scheduler"},
    "contacts.tasks.contact_imports_resume_stalled": {"queue": "scheduler"},
    "batch_operations.tasks.batch_operations_resume_stalled": {"queue": "scheduler"},
    "callouts.tasks.callout_counts_squash": {"queue": "scheduler"},
    "callouts.tasks.callout_series_retention": {"queue": "scheduler"},
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
SCFM_SCHEDULER_INTERVAL = float(os.environ.get("SCFM_SCHEDULER_INTERVAL", 10))
SCFM_POPULATION_CHUNK_SIZE = env_int("SCFM_POPULATION_CHUNK_SIZE", 10_000)
# callout counters (callouts/counters.py): how often their delta rows are squashed, and how long the per-minute
# series and the remote phone call events are kept (0: for ever); totals are never deleted
SCFM_COUNTS_SQUASH_INTERVAL = float(os.environ.get("SCFM_COUNTS_SQUASH_INTERVAL", 10))
SCFM_SERIES_RETENTION_DAYS = env_int("SCFM_SERIES_RETENTION_DAYS", 90)
# a queued or running import / batch operation whose row has not moved for this long is re-enqueued (scfm/stalled.py)
SCFM_STALLED_JOB_SECONDS = env_int("SCFM_STALLED_JOB_SECONDS", 120)

# Telephony defaults (per-account settings override these).
PLATFORM_PROVIDER = os.environ.get("PLATFORM_PROVIDER", "simulator")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID") or None
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN") or None
SOMLENG_ACCOUNT_SID = os.environ.get("SOMLENG_ACCOUNT_SID") or None
SOMLENG_AUTH_TOKEN = os.environ.get("SOMLENG_AUTH_TOKEN") or None
SOMLENG_CLIENT_REST_API_HOST = os.environ.get("SOMLENG_CLIENT_REST_API_HOST") or None
SOMLENG_CLIENT_REST_API_BASE_URL = os.environ.get("SOMLENG_CLIENT_REST_API_BASE_URL") or None
SCFM_AUDIO_BASE_URL = (
    os.environ.get("SCFM_AUDIO_BASE_URL") or "https://s3.ap-southeast-1.amazonaws.com/audio.somleng.org"
)
SCFM_EWS_FEEDBACK_MSISDNS = os.environ.get("SCFM_EWS_FEEDBACK_MSISDNS", "")
REGISTERED_CALL_FLOW_LOGIC = [
    name.strip() for name in os.environ.get("REGISTERED_CALL_FLOW_LOGIC", "").split(",") if name.strip()
]

SCFM_LOG_FORMAT = os.environ.get("SCFM_LOG_FORMAT", "text")
if SCFM_LOG_FORMAT == "json":
    logging.captureWarnings(True)  # Python warnings become log lines too (logger py.warnings), so JSON as well
SCFM_LOG_LEVEL = os.environ.get("SCFM_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "scfm.logging.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "scfm.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if SCFM_LOG_FORMAT == "json" else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": SCFM_LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Health probes (scfm.health): how long /health and the worker probe wait for workers to answer, in seconds.
SCFM_HEALTH_WORKER_TIMEOUT = float(os.environ.get("SCFM_HEALTH_WORKER_TIMEOUT", 2))

# Metrics (scfm/metrics.py, docs/operations.md "Metrics"). /metrics answers a super-admin access token; to let a
# Prometheus server scrape it without one, either open it to everyone (SCFM_METRICS_PUBLIC=true: only where the web
# port is reachable from the scraping network alone) or to the addresses of SCFM_METRICS_ALLOWED_NETWORKS
# (comma-separated CIDRs, matched against REMOTE_ADDR: the client, or the proxy in front of the web).
SCFM_METRICS_PUBLIC = env_bool("SCFM_METRICS_PUBLIC", False)
SCFM_METRICS_ALLOWED_NETWORKS = [  # a malformed CIDR stops the process at start, not at the first scrape
    ipaddress.ip_network(cidr.strip(), strict=False)
    for cidr in os.environ.get("SCFM_METRICS_ALLOWED_NETWORKS", "").split(",")
    if cidr.strip()
]
# More prometheus-client multiprocess directories on this host that /metrics sums with its own
# PROMETHEUS_MULTIPROC_DIR (comma-separated; `manage.py serve` gives its worker's)
SCFM_METRICS_EXTRA_DIRS = os.environ.get("SCFM_METRICS_EXTRA_DIRS", "")
# A Celery worker serves its processes' counters on this port (unset: not served), on this address
SCFM_WORKER_METRICS_PORT = int(os.environ.get("SCFM_WORKER_METRICS_PORT") or 0)
SCFM_WORKER_METRICS_ADDR = os.environ.get("SCFM_WORKER_METRICS_ADDR", "0.0.0.0")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():  # prometheus-client opens its files there as apps load
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
else:  # set but empty (an .env line left blank) would still switch prometheus-client to multiprocess mode
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
PROMETHEUS_EXPORT_MIGRATIONS = False  # /health/ready checks migrations; no per-process gauge of them

# Error reporting: Sentry for the web and the workers, on only when SENTRY_DSN is set.
SENTRY_DSN = os.environ.get("SENTRY_DSN") or None
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT") or "production",
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
        send_default_pii=False,  # no request bodies, cookies or user details: phone numbers stay out of Sentry
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
