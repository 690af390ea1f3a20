"""django-helpdesk 2.6.1 as its install docs set it up, only to benchmark it against ours.

Runs in its own virtualenv (see bench/README.md), never in the project's. The database is
``dh_bench`` on the same PostgreSQL server as ``helpdesk_bench`` unless
``PEER_DATABASE_URL`` says otherwise (``postgres://user:password@host:port/name``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "django-helpdesk-peer-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",  # helpdesk's admin and maintenance pages
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",  # domain in email links
    "django.contrib.humanize",  # elapsed times in its templates
    "rest_framework",  # its API and the datatables JSON endpoint
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_url = urlsplit(os.environ.get("PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dh_bench"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ.get("PEER_MEDIA_ROOT", "/tmp/dh-bench-media")
LOGIN_URL = "/login/"

# Its ticket emails are rendered and handed to a backend that drops them: neither side
# talks to an SMTP server during the benchmark (ours writes them to its outbox table).
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"

# Teams mode needs pinax-teams; the docs' way to run without it.
HELPDESK_TEAMS_MODE_ENABLED = False
# The knowledge base stays on (its default): 2.6.1's urls.py fails to import without it.
# Its REST API (POST /api/tickets/) is what the creation benchmark uses.
HELPDESK_API_ENABLED = True
