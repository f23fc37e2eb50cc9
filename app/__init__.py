"""Flowdesk: IT service management whose tickets are driven by BPMN processes.

`create_app()` is the application factory (gunicorn 'app:create_app()').
"""

import gc

from flask import Flask, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from app.config import Settings
from app.wiring import open_database

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()

CSP = (
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class DatabaseInt(IntegerConverter):
    """<int:...> in a URL: a number the database can hold (a bigger one is simply no such page: 404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _locale():
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return request.accept_languages.best_match(["en", "fr"]) or "en"


# The browser features no Flowdesk page uses, switched off for every page.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def _personal(response) -> bool:
    """A response for someone: an API call, a signed-in page, or anything that sets a session cookie. Static
    files stay cacheable."""
    if request.path.startswith("/static/"):
        return False
    if request.path.startswith("/api/") or "Set-Cookie" in response.headers:
        return True
    from flask_login import current_user

    return bool(current_user and current_user.is_authenticated)


def _freeze_what_is_loaded() -> None:
    """A server process keeps what it loaded at start (modules, the app, the models) for its whole life. Taken
    out of the cyclic garbage collector's sight, it is not walked again by each full collection, which then
    sees only what requests left behind: on the inbox page a full pass took 41 ms (123,000 objects) before
    and 5 ms after, once every 21 requests (bench/RESULTS.md)."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> Flask:
    from_environment = settings is None  # a server process (gunicorn, flowdesk serve); tests pass settings
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseInt
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https"),
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        FLOWDESK=settings,
    )
    app.extensions["flowdesk.db"] = open_database(settings.database_url)

    from app import http
    from app.api import bp as api_bp
    from app.tickets import attachments
    from app.web import register as register_web

    attachments.check_settings()
    app.before_request(http.allow_uploads)  # before CSRF, which reads the form
    csrf.init_app(app)
    app.before_request(http.refuse_control_characters)
    babel.init_app(app, locale_selector=_locale)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates every call with a bearer token, never a cookie
    register_web(app)
    app.teardown_appcontext(http.close_db)

    https = settings.base_url.startswith("https")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _personal(response):
            # What a signed-in person or an API client sees stays out of shared and browser caches.
            response.headers["Cache-Control"] = "no-store"
        return response

    if from_environment:
        _freeze_what_is_loaded()
    return app
