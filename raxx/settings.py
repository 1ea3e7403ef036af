"""Settings for the Raxx backend.

Everything is read from the environment in this one place (CONTRACTS §7).
With no environment at all the project runs on one machine: SQLite, a file
cache shared by every local process, a filesystem Celery broker, and the
offline market-data fixtures. ``DJANGO_DEBUG=0`` is production mode: a
missing secret stops start-up with a clear message instead of falling back
to a development default.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
PRODUCTION = not DEBUG

_DEV_DEFAULTS = {
    "DJANGO_SECRET_KEY": "dev-insecure-secret-key-change-me",
    "JWT_SIGNING_KEY": "dev-insecure-jwt-signing-key-change-me-32b",
    "BETA_TOKEN_SECRET": "dev-insecure-beta-token-secret",
}


def secret(name: str, *, required_in_production: bool = True) -> str:
    """A secret from the environment; a dev default only outside production."""
    value = env.str(name, default="")
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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "raxx.middleware.JsonApiErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "raxx.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

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
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Raxx API",
    "DESCRIPTION": "Paper trading journal, What Could've Been, and the beta walkthrough.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "raxx.schema.contract_path_names",
    ],
}

# --- Flags (django-waffle) ------------------------------------------------
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_FLAG_DEFAULT = False
WAFFLE_CACHE_NAME = "default"
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
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Features -------------------------------------------------------------
BETA_TOKEN_SECRET = secret("BETA_TOKEN_SECRET")
MARKET_DATA_PROVIDER = env.str("MARKET_DATA_PROVIDER", default="") or "fixture"
MARKET_DATA_FIXTURES_DIR = env.str("MARKET_DATA_FIXTURES_DIR", default="") or str(BASE_DIR / "wcb" / "fixtures" / "market_data")
ALPACA_API_KEY = env.str("ALPACA_API_KEY", default="")
ALPACA_SECRET_KEY = env.str("ALPACA_SECRET_KEY", default="")
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
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
