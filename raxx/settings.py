"""Settings for the Raxx backend.

Everything is read from the environment in this one place (CONTRACTS §7).
With no environment at all the project runs on one machine: SQLite, a file
cache shared by every local process, a filesystem Celery broker, and the
offline market-data fixtures. ``DJANGO_DEBUG=0`` is production mode: a
missing secret stops start-up with a clear message instead of falling back
to a development default.
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
PRODUCTION = not DEBUG
# Trust X-Forwarded-Proto (and one X-Forwarded-For hop for rate limits) only when told that a
# TLS-terminating proxy sets them: otherwise any client could claim HTTPS or another address.
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)

_DEV_DEFAULTS = {
    "DJANGO_SECRET_KEY": "dev-insecure-secret-key-change-me",
    "JWT_SIGNING_KEY": "dev-insecure-jwt-signing-key-change-me-32b",
    "BETA_TOKEN_SECRET": "dev-insecure-beta-token-secret",
}


SECRET_MIN_LENGTH = 32


def secret(name: str, *, required_in_production: bool = True) -> str:
    """A secret from the environment; a dev default only outside production,
    where a short secret (or a development default) stops start-up too."""
    value = env.str(name, default="")
    if value and PRODUCTION and (len(value) < SECRET_MIN_LENGTH or value == _DEV_DEFAULTS.get(name)):
        raise ImproperlyConfigured(
            f"{name} is too weak for production mode (DJANGO_DEBUG=0): use a random value of at least "
            f"{SECRET_MIN_LENGTH} characters (not the development default), e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    if value:
        return value
    if PRODUCTION and required_in_production:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_DEBUG=0 (production mode). "
            "See .env.example for every setting."
        )
    return _DEV_DEFAULTS.get(name, "")


SECRET_KEY = secret("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "raxx.console.apps.ConsoleAdminConfig",  # django.contrib.admin with the console site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # flags before waffle: our waffle_flag command wraps waffle's to audit changes.
    "flags",
    "waffle",
    "django_celery_beat",
    "raxx",
    "raxx.console",
    "journal",
    "wcb",
    "walkthrough",
]

MIDDLEWARE = [
    "raxx.logs.RequestContextMiddleware",  # outermost: request id, latency metric, access log for every response
    # Next: it turns even SecurityMiddleware's and CommonMiddleware's 400s (a bad Host) into JSON
    # under /api and /healthz, and refuses an oversized body before anything reads it.
    "raxx.middleware.JsonApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "raxx.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "flags.middleware.FlagChangeRefusedMiddleware",  # a refused flag change on an operator page: a message
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

# CONTRACTS §10: a larger body is 413 request_too_large on every route (raxx.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

ROOT_URLCONF = "raxx.urls"
WSGI_APPLICATION = "raxx.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the Celery worker and beat share one file: WAL lets
    # readers run beside a writer; IMMEDIATE avoids deadlocked upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "raxx.postgresql"  # Django's, its health check without a round trip
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "raxx",
            "OPTIONS": {
                # Redis is an accelerator, never a dependency: when it is down,
                # reads miss and writes are dropped (WCB recomputes, waffle
                # reads the database) instead of failing the request.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Not LocMemCache: the server, the worker and manage.py are separate
    # processes, and a process-local cache would serve stale flags.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": "raxx",
        }
    }

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Operators sign in with a passkey only (CONTRACTS §8): this backend never authenticates by
# password (Django's ModelBackend is not listed); it only loads the session's user.
AUTHENTICATION_BACKENDS = ["raxx.console.backends.PasskeyOnlyBackend"]
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="") or "localhost"
WEBAUTHN_ORIGIN = env.str("WEBAUTHN_ORIGIN", default="") or f"http://localhost:{env.str('PORT', default='') or 8000}"  # make run PORT=…
THROTTLE_OPERATOR_SIGNIN = env.str("THROTTLE_OPERATOR_SIGNIN", default="") or "10/min"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="") or "HS256"
_ASYMMETRIC = JWT_ALGORITHM.startswith(("RS", "ES", "PS", "Ed"))
JWT_VERIFYING_KEY = env.str("JWT_VERIFYING_KEY", default="").replace("\\n", "\n")
if _ASYMMETRIC:
    if not JWT_VERIFYING_KEY:
        raise ImproperlyConfigured(f"JWT_ALGORITHM={JWT_ALGORITHM} needs JWT_VERIFYING_KEY (the issuer's PEM public key).")
    JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
else:
    JWT_SIGNING_KEY = secret("JWT_SIGNING_KEY")
JWT_ISSUER = env.str("JWT_ISSUER", default="") or None
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="") or None

SIMPLE_JWT = {
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "VERIFYING_KEY": JWT_VERIFYING_KEY or None,
    "ISSUER": JWT_ISSUER,
    "AUDIENCE": JWT_AUDIENCE,
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "sub",
    "USER_ID_FIELD": "id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "UPDATE_LAST_LOGIN": False,
}

# Account merge consent (CONTRACTS §9): a confirmation needs a step-up token from Queue whose
# auth_time is at most this many seconds old and whose amr holds one of these RFC 8176 values.
MERGE_CONSENT_MAX_AGE_S = env.int("MERGE_CONSENT_MAX_AGE_S", default=300)
MERGE_CONSENT_AMR = [v.strip() for v in env.list("MERGE_CONSENT_AMR", default=["hwk", "swk"]) if v.strip()]

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["raxx.auth.QueueJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["raxx.auth.IsCustomer"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["raxx.parsers.SafeJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # ASCII-escaped JSON: an error detail echoing a lone surrogate ("\ud800") still encodes.
    "UNICODE_JSON": False,
    "EXCEPTION_HANDLER": "raxx.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "raxx.autoschema.RaxxAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_CLASSES": ["raxx.throttling.CustomerRateThrottle"],
    # The client address for THROTTLE_ANONYMOUS: REMOTE_ADDR, or our proxy's X-Forwarded-For hop.
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
}
# Rate limits (CONTRACTS §10; raxx/throttling.py): "<count>/<s|min|hour|day>", counted in the cache.
THROTTLE_CUSTOMER = env.str("THROTTLE_CUSTOMER", default="1200/min")
THROTTLE_CUSTOMER_WRITES = env.str("THROTTLE_CUSTOMER_WRITES", default="120/min")
THROTTLE_ANONYMOUS = env.str("THROTTLE_ANONYMOUS", default="60/min")
for _name in ("THROTTLE_CUSTOMER", "THROTTLE_CUSTOMER_WRITES", "THROTTLE_ANONYMOUS"):
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} looks like '120/min' (per s, min, hour or day); got {globals()[_name]!r}.")
SPECTACULAR_SETTINGS = {
    "TITLE": "Raxx API",
    "DESCRIPTION": "Paper trading journal, What Could've Been, and the beta walkthrough.",
    "VERSION": "1.1.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "raxx.schema.contract_path_names",
        "raxx.openapi.add_common_responses",
    ],
}

# --- Flags (django-waffle) ------------------------------------------------
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_FLAG_DEFAULT = False
# Flags are cached through flags/cache.py (generation-checked, refuses an undeliverable
# change) over "flags_store": the default cache under another alias whose reads are counted
# (raxx/cache_metrics.py). FLAGS_CACHE_TTL bounds staleness if the cache is lost mid-change.
CACHES["flags_store"] = {**CACHES["default"], "BACKEND": {
    "django_redis.cache.RedisCache": "raxx.cache_metrics.CountingRedisCache",
    "django.core.cache.backends.filebased.FileBasedCache": "raxx.cache_metrics.CountingFileBasedCache",
}[CACHES["default"]["BACKEND"]]}
CACHES["flags"] = {"BACKEND": "flags.cache.GenerationCache", "LOCATION": "flags_store"}
FLAGS_CACHE_TTL = env.int("FLAGS_CACHE_TTL", default=10)
# The customer row of a request, cached in the same store (raxx/customer_cache.py); bounds the same case.
CUSTOMER_CACHE_TTL = env.int("CUSTOMER_CACHE_TTL", default=300)
# Where wcb/calendar.py keeps the NYSE schedule it built (default: a folder of this user under the temp dir).
WCB_CALENDAR_CACHE_DIR = env.str("WCB_CALENDAR_CACHE_DIR", default="")
WAFFLE_CACHE_NAME = "flags"
WAFFLE_LOG_MISSING_FLAGS = 30  # logging.WARNING

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # The embedded broker: a folder that the server, worker and beat share.
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu's filesystem transport does not create its folders.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING below (JSON in production)
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Features -------------------------------------------------------------
BETA_TOKEN_SECRET = secret("BETA_TOKEN_SECRET")
MARKET_DATA_PROVIDER = env.str("MARKET_DATA_PROVIDER", default="") or "fixture"
MARKET_DATA_FIXTURES_DIR = env.str("MARKET_DATA_FIXTURES_DIR", default="") or str(BASE_DIR / "wcb" / "fixtures" / "market_data")
ALPACA_API_KEY = env.str("ALPACA_API_KEY", default="")
ALPACA_SECRET_KEY = env.str("ALPACA_SECRET_KEY", default="")
ALPACA_DATA_URL = env.str("ALPACA_DATA_URL", default="") or "https://data.alpaca.markets"  # or the sandbox host
# EOD/EOM fan-out: rows per batch task (a symbol is never split across tasks).
WCB_TASK_ROWS = env.int("WCB_TASK_ROWS", default=5000)
ALPHA_VANTAGE_API_KEY = env.str("ALPHA_VANTAGE_API_KEY", default="")
if MARKET_DATA_PROVIDER not in ("fixture", "alpaca"):
    raise ImproperlyConfigured("MARKET_DATA_PROVIDER must be 'fixture' or 'alpaca'.")
if PRODUCTION and MARKET_DATA_PROVIDER == "alpaca" and not (ALPACA_API_KEY and ALPACA_SECRET_KEY):
    raise ImproperlyConfigured("MARKET_DATA_PROVIDER=alpaca needs ALPACA_API_KEY and ALPACA_SECRET_KEY in production mode.")

# --- I18N, static, security -----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["raxx.formats"]  # console dates as 2026-12-01 20:58 (raxx/formats/en)
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
try:  # whitenoise warns about a missing folder before the first collectstatic
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass
# Serve app static files (admin, Swagger UI from the sidecar) straight from the apps
# when they are not collected yet: /api/docs works offline in a fresh clone and in tests.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Operators are the only session users (customers send a JWT): a working day, not two weeks.
SESSION_COOKIE_AGE = env.int("OPERATOR_SESSION_AGE_S", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes speak plain HTTP to the app
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a commitment made at hstspreload.org, not by a header alone: opt in.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp) on every response: the console (admin) and the API
# docs load scripts only from this origin (Swagger UI's init script is a file: the split
# view), or with the request's nonce (csp_nonce in a template). Inline styles stay allowed:
# the admin and Swagger UI use them, and they cannot run code.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Operations (CONTRACTS §11): logs, metrics, job staleness, Sentry -----------
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
from .logs import logging_config  # noqa: E402

LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=True)  # one access line per request (~90 us of JSON + write)
METRICS_ALLOWED_CIDRS = env.list("METRICS_ALLOWED_CIDRS", default=["127.0.0.0/8", "::1/128"])
JOB_STALE_GRACE_S = env.int("JOB_STALE_GRACE_S", default=3600)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from .sentry import init as _sentry_init  # noqa: E402

    _sentry_init(dsn=SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production" if PRODUCTION else "development"),
                 traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))
