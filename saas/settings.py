"""One settings module; every difference between machines comes from the environment.

See README.md ("Configuration") for each variable. Defaults are for a laptop: with
``DEBUG`` unset the product refuses to start without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / ".data"))).resolve()
DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("TESTING", default=False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # A laptop keeps one generated key so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# The public site lives on BASE_DOMAIN, each tenant on <slug>.BASE_DOMAIN.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").lower()
# Port appended to links we build (signup redirect, emails); empty in production.
PUBLIC_PORT = env.str("PUBLIC_PORT", default="8000" if DEBUG else "")
PUBLIC_SCHEME = env.str("PUBLIC_SCHEME", default="http" if DEBUG else "https")
# Tenants connect their own domains at run time, so the host check is the tenant
# middleware's (first in MIDDLEWARE): it serves only names in the Domain table and
# answers 404 to any other (see Django's ALLOWED_HOSTS docs on "*").
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# --- applications ---------------------------------------------------------------------
# Public schema: the tenant registry, the warm pool, platform staff, the task queue.
SHARED_APPS = [
    "daphne",
    "django_tenants",
    "tenants",  # before django_tenants' commands so our migrate_schemas wins
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "channels",
]
# Tenant schemas: users, sessions, tickets, the knowledge base and every Wagtail app.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "accounts",
    "allauth",
    "allauth.account",
    "kb_pages",
    "helpdesk",
    "branding",
    "realtime",
    "wagtail.api.v3",
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.locales",
    "wagtail.contrib.simple_translation",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
]
# django_tenants must come first: "tenants" overrides its migrate_schemas command.
INSTALLED_APPS = ["daphne", "tenants", "django_tenants"] + [
    app for app in SHARED_APPS if app not in ("daphne", "tenants", "django_tenants")
]
INSTALLED_APPS += [app for app in TENANT_APPS if app not in INSTALLED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# A migrated schema kept only to be cloned; never served.
TENANT_TEMPLATE_SCHEMA = "tenant_template"
TENANT_POOL_SIZE = env.int("TENANT_POOL_SIZE", default=3)
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "saas.urls_public"
ROOT_URLCONF = "saas.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Called inside a freshly claimed schema, in the signup transaction (see tenants.provisioning).
TENANT_SETUP_STEPS = [
    "accounts.services.user_create_owner",
    "kb_pages.services.site_bind_to_tenant",
    "kb_pages.page_cache.tenant_page_cache_reset",
]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "tenants.middleware.ActiveTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "branding.middleware.TenantDefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kb_pages.middleware.TenantRedirectMiddleware",
    "kb_pages.page_cache.PageCacheMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "branding.context_processors.brand",
            ],
        },
    },
]

ASGI_APPLICATION = "saas.asgi.application"
WSGI_APPLICATION = None

# --- database -------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    _db = env.db_url("DATABASE_URL")
else:
    from saas.embedded_pg import embedded_database

    _db = embedded_database(DATA_DIR, env.str("EMBEDDED_DB_NAME", default="helpdesk"))
_db["ENGINE"] = "django_tenants.postgresql_backend"
# Persistent connections keep the search_path per session; a transaction-mode pooler
# would break that (see README "Scaling").
_db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
_db.setdefault("CONN_HEALTH_CHECKS", True)
# JIT compilation cost 160-320 ms on the desk's one-off plans over a million tickets,
# far more than it saved (bench/helpdesk.py).
_db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# Form choice fields iterate their querysets with .iterator(): on PostgreSQL a DECLARE
# ... WITH HOLD cursor, three round trips and a materialised result for a dozen rows
# (three of them on the agent's ticket page). The app streams nothing large.
_db.setdefault("DISABLE_SERVER_SIDE_CURSORS", True)
# A pool of open connections (psycopg_pool, Django's "pool" option) saves the 4-5 ms
# every request pays to connect with CONN_MAX_AGE=0; django-tenants sets the
# search_path again on each checkout (its close() forgets the schema it set), so a
# pooled connection never carries a tenant over. Per process: daphne's request threads
# and its websocket calls (tenants.channels_middleware.db_call) check connections out
# and return them after each request or call. Django allows no pool with persistent
# connections; DB_POOL_MAX_SIZE=0 turns it off.
_pool_max = env.int("DB_POOL_MAX_SIZE", default=10)
if _pool_max and not _db["CONN_MAX_AGE"]:
    _db["OPTIONS"].setdefault(
        "pool", {"min_size": min(2, _pool_max), "max_size": _pool_max, "timeout": 10}
    )
_db.setdefault("TEST", {"NAME": env.str("TEST_DATABASE_NAME", default="test_helpdesk")})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, channels, tasks -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# django-tenants' key function puts the schema into every key: without it Wagtail's
# site-root cache and allauth's rate-limit counters would be shared between tenants.
_cache_common = {
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="hd"),
            **_cache_common,
        }
    }
    # The pub/sub layer: one PUBLISH per group_send whatever the group's size, and one
    # subscriber connection per process rather than a pool a connect storm can exhaust
    # (the core layer's group_send grew to 80 ms at 5,000 members; see bench/realtime.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # A Redis that vanishes without a reset must not hang requests: fail fast,
                # the event is already in the tenant's log and sockets catch up by replay.
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                "prefix": env.str("CHANNEL_PREFIX", default="hd"),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            **_cache_common,
        }
    }
    # The in-process layer drops messages past a channel's capacity (100 by default); a
    # busy agent socket must not lose events under a burst.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 5000},
        }
    }

# Anonymous portal pages are kept this long at most (kb_pages.page_cache; any publish,
# branding or privacy change drops them at once); 0 turns the page cache off.
# Without Redis each process has its own cache, and a change made by another process (a
# scheduled publish in the worker) reaches this one's pages only when they expire.
KB_PAGE_CACHE_SECONDS = env.int("KB_PAGE_CACHE_SECONDS", default=600 if REDIS_URL else 60)

# Without Redis the in-process layer cannot hear other processes (the background worker);
# web processes then also poll the tenants' event logs this often (seconds).
REALTIME_POLL_INTERVAL = env.float("REALTIME_POLL_INTERVAL", default=0 if REDIS_URL else 1.0)
# With Redis, web processes sweep the logs this often (seconds) for what the layer lost
# (Redis down, a dropped pub/sub message): open sockets catch up without reconnecting.
REALTIME_SWEEP_INTERVAL = env.float("REALTIME_SWEEP_INTERVAL", default=2.0 if REDIS_URL else 0)
# A busy live group's events leave together, at most once per tick (realtime/hub.py).
REALTIME_TICK_SECONDS = env.float("REALTIME_TICK_SECONDS", default=0.02)

# Wagtail's own maintenance tasks (reference index, search index) are enqueued inside a
# tenant request with no schema argument, so they run right there ("default"). Our own
# background work goes to the durable database queue and carries schema_name.
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "durable": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "provisioning", "email"],
    },
}

# --- sessions, auth, allauth ----------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idOwaspHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_SCHEME
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""

# --- email ----------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = (
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG or TESTING
        else "django.core.mail.backends.smtp.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"help@{BASE_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- languages ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Persian")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# The knowledge base has an en, fa and ar page tree per tenant, linked as translations.
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
WHITENOISE_USE_FINDERS = True
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    # Media paths carry the schema, so one tenant's files never land in another's folder.
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}
    if not (DEBUG or TESTING)
    else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Tenant hosts serve their own public media (Wagtail images) at MEDIA_URL (saas/media.py);
# turn off when a CDN or a separate user-content domain serves it.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Ticket attachments from a host of their own that shares no cookies with the portal
# (helpdesk/usercontent.py); unset, each tenant's host serves them after its access check.
USER_CONTENT_HOST = env.str("USER_CONTENT_HOST", default="").lower()
if USER_CONTENT_HOST and (
    USER_CONTENT_HOST == BASE_DOMAIN.lower()
    or USER_CONTENT_HOST.endswith("." + BASE_DOMAIN.lower())
):
    # Same site as every tenant host: it could set cookies for all of them.
    raise ImproperlyConfigured(
        "USER_CONTENT_HOST must be on a domain of its own, not on BASE_DOMAIN."
    )

# --- wagtail --------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Helpdesk"
WAGTAILADMIN_BASE_URL = f"{PUBLIC_SCHEME}://{BASE_DOMAIN}"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

# --- security when DEBUG is off -------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PUBLIC_SCHEME == "https")
    SESSION_COOKIE_SECURE = PUBLIC_SCHEME == "https"
    CSRF_COOKIE_SECURE = PUBLIC_SCHEME == "https"
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
    },
}
