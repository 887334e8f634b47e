"""Imports every model module so that ``metadata`` knows every table (Alembic, tests)."""

from storage.db import Base
from workflows import audit, notifications, numbering, outbox  # noqa: F401
from workflows.accounts import models as accounts_models  # noqa: F401
from workflows.applications import models as applications_models  # noqa: F401
from workflows.documents import models as documents_models  # noqa: F401
from workflows.registry import models as registry_models  # noqa: F401

metadata = Base.metadata
