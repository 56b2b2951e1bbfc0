"""Alembic migrations of the service's database, shipped inside the package so that an
installed ``mengxi serve`` can upgrade a database (see :mod:`api.service.db.migrate`)."""
