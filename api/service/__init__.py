"""The game service: a FastAPI app (:func:`create_app`) configured by one :class:`Settings`
object (``MENGXI_*`` environment variables), on SQLite by default or PostgreSQL.

Routers are thin (``routers/``); services open the transaction and call the domain session
through its public interface (``services/``, ``live.py``); ``schemas/`` are the API's pydantic
models; ``db/`` holds the tables, the repositories and the Alembic migrations. The endpoints,
tokens and persistence are described in ``api/README.md``.

>>> import tempfile
>>> from fastapi.testclient import TestClient
>>> from api.service import Settings, create_app
>>> folder = tempfile.mkdtemp()
>>> app = create_app(Settings(database_url=f"sqlite:///{folder}/game.sqlite"))
>>> with TestClient(app) as client:
...     client.get("/api/v1/health").json()["status"]
'ok'
"""

from api.service.app import create_app
from api.service.settings import Settings

__all__ = ["Settings", "create_app"]
