"""The outer layer: everything that meets a user.

* ``api.cli`` -- the ``mengxi`` command line (Typer + rich), one module per command group;
* ``api.service`` -- the FastAPI game service: routers, services (they own transactions),
  schemas, and ``db/`` (tables, repositories, Alembic migrations);
* ``api.web`` -- the lobby, trading desk and instructor console, served by the same app.

>>> from typer.testing import CliRunner
>>> from api.cli import app
>>> result = CliRunner().invoke(app, ["rules", "check", "mengxi"])
>>> result.exit_code
0
"""
