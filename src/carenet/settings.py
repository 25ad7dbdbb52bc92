"""CareNet settings, read from the environment.

CARENET_DATABASE_URL   database (default: SQLite file under var/)
CARENET_SECRET_KEY     Django secret key (default: generated once into var/)
CARENET_PII_KEY        Fernet key that encrypts ID numbers at rest (default: generated once into var/)
CARENET_DEBUG          1 to enable debug pages
CARENET_DEMO           1 to show demo logins on the login page
CARENET_ALLOWED_HOSTS  comma-separated host names
CARENET_REDIS_URL      Redis for the channel layer (default: in-memory, single process)
CARENET_MQTT_URL       the broker the ingest worker and simulator use (default mqtt://127.0.0.1:1883)
CARENET_INGEST_PATH    fast (default) or old: the ingest implementation (old kept for benchmark comparisons)
CARENET_FEED_LISTEN    1 (default): the alarm feed LISTENs on PostgreSQL; 0 polls every 100 ms as on SQLite
CARENET_HTTPS          1 behind a TLS proxy (secure cookies, X-Forwarded-Proto)
CARENET_CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://carenet.mzj.gov.local
"""
import datetime as dt
import os
from pathlib import Path

import dj_database_url

from carenet.core.keys import load_or_create_key

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("CARENET_VAR_DIR", REPO_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("CARENET_DEBUG", "0") == "1"
DEMO = os.environ.get("CARENET_DEMO", "0") == "1"
SECRET_KEY = os.environ.get("CARENET_SECRET_KEY") or load_or_create_key(VAR_DIR / "secret.key", kind="django")
PII_KEY = os.environ.get("CARENET_PII_KEY") or load_or_create_key(VAR_DIR / "pii.key", kind="fernet")
ALLOWED_HOSTS = os.environ.get("CARENET_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CARENET_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
if os.environ.get("CARENET_HTTPS") == "1":  # behind a TLS-terminating proxy on the intranet
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "ninja",  # API docs from ninja's bundled (vendored) Swagger UI assets, never a CDN
    "axes",
    "carenet.core",
    "carenet.people",
    "carenet.demo",
    "carenet.devices",
    "carenet.monitoring",
    "carenet.callcenter",
    "carenet.assistance",
    "carenet.policy",
    "carenet.matching",
    "carenet.facilities",
    "carenet.civic",
    "carenet.supervision",
    "carenet.homecare",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "carenet.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "carenet.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "carenet.core.middleware.RequestContextMiddleware",
    "carenet.core.middleware.RejectControlCharactersMiddleware",
    "carenet.core.middleware.DenialAuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "carenet.urls"
ASGI_APPLICATION = "carenet.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carenet.core.context.carenet",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("CARENET_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'carenet.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process read while the ingest worker writes.
    # BEGIN IMMEDIATE: a transaction that reads and then writes never fails to upgrade ("database is locked")
    # while the ingest worker's threads and the web process write concurrently.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20,
                                       "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, not memory, so worker subprocesses (MQTT tests) can open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    # Each test run gets its own database, so two runs on one server never drop each other's database
    # or terminate each other's connections. CARENET_TEST_DB_NAME pins it (subprocesses, debugging).
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("CARENET_TEST_DB_NAME") or f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked (account, address) pair before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "carenet.core.auth.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed-login throttle (django-axes): this many failures for one account from one address lock that account
# from that address only, for this many minutes. Wrong passwords typed elsewhere never lock an operator out.
LOGIN_MAX_FAILURES = int(os.environ.get("CARENET_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCK_MINUTES = int(os.environ.get("CARENET_LOGIN_LOCK_MINUTES", "15"))
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCK_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "carenet.core.auth.lockout_response"
AXES_VERBOSE = False
if os.environ.get("CARENET_HTTPS") == "1":  # the TLS proxy's X-Forwarded-For names the client
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = REPO_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing; assets come from the finders
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CARENET_INGEST_PATH = os.environ.get("CARENET_INGEST_PATH", "fast")
CARENET_FEED_LISTEN = os.environ.get("CARENET_FEED_LISTEN", "1") == "1"  # 0: poll on PostgreSQL too (benchmarks)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

REDIS_URL = os.environ.get("CARENET_REDIS_URL")
CHANNEL_LAYERS = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)

# Run by the ingest worker (and the embedded demo's ticker) every second, after the timer rules.
CARENET_TICK_HOOKS = ["carenet.callcenter.notify.notify_new_alarms", "carenet.facilities.rooms.hand_over_due"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_4xx": {"()": "carenet.core.logfilters.QuietClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["quiet_4xx"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("CARENET_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
