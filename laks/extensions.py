"""Extension instances, created unbound so that every layer can import them without cycles."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from laks.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits login attempts (laks/views/auth.py). The storage comes from the app's config
# (memory, or Redis when LAKS_REDIS_URL is set); if Redis goes away, each process keeps
# counting in memory rather than letting nobody log in. The moving window has no boundary
# at which twice the limit gets through.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window",
                  in_memory_fallback_enabled=True)
