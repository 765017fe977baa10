#!/usr/bin/env python3
"""Test CAS server for genauth's end-to-end tests: the `django-cas-server` package (pinned in
requirements.txt), configured in this one file, on loopback.

Usage: python tests/cas/server.py

Listens on 127.0.0.1 on an ephemeral port and, once ready, prints exactly one line to stdout:
    {"cas_url": "http://127.0.0.1:<port>/cas"}
Everything else goes to stderr. Exits when stdin reaches end-of-file (a server orphaned by a dead
test process dies too).

One account, from django-cas-server's test backend: username `test`, password `test`, attributes
nom, prenom, email (anonymous@example.net), alias (two values). Any service on http://127.0.0.1 is
allowed and gets every attribute (CAS 3.0). Single logout is off. Tickets live 60 seconds and are
single use (the package's defaults).
"""

import json
import os
import sys
import tempfile
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

import django
from django.conf import settings
from django.urls import include, path

sys.stdout = os.fdopen(os.dup(1), "w")  # the ready line
os.dup2(2, 1)  # anything else printed goes to stderr

DATA = tempfile.mkdtemp(prefix="genauth-cas-")

settings.configure(
    DEBUG=False,
    SECRET_KEY="genauth-test-cas-server-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "cas_server",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(DATA, "db.sqlite3")}},
    STATIC_URL="/static/",
    USE_TZ=True,
    # The package's test backend: one user, test/test, with attributes.
    CAS_AUTH_CLASS="cas_server.auth.TestAuthUser",
    # No version check against the package index (the machine has no web access).
    CAS_NEW_VERSION_HTML_WARNING=False,
    CAS_NEW_VERSION_EMAIL_WARNING=False,
    CAS_SHOW_POWERED=False,
)
django.setup()

urlpatterns = [path("cas/", include(("cas_server.urls", "cas_server"), namespace="cas_server"))]


def prepare():
    from django.core.management import call_command
    from cas_server.models import ReplaceAttributName, ServicePattern

    call_command("migrate", verbosity=0, interactive=False)
    pattern = ServicePattern.objects.create(pos=1, name="loopback", pattern=r"^http://127\.0\.0\.1(:\d+)?/.*")
    ReplaceAttributName.objects.create(name="*", service_pattern=pattern)


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("[cas] " + (format % args) + "\n")


def main():
    prepare()
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=Server, handler_class=Quiet)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"cas_url": f"http://127.0.0.1:{port}/cas"}), flush=True)
    sys.stdin.read()  # until EOF
    server.shutdown()


if __name__ == "__main__":
    main()
