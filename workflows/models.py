"""Imports every model module so that ``metadata`` knows every table (Alembic, tests)."""

from storage.db import Base
from workflows import audit, jobs, notifications, numbering, outbox, rate_limits  # noqa: F401
from workflows.accounts import models as accounts_models  # noqa: F401
from workflows.activities import models as activities_models  # noqa: F401
from workflows.agreements import models as agreements_models  # noqa: F401
from workflows.applications import models as applications_models  # noqa: F401
from workflows.certificates import models as certificates_models  # noqa: F401
from workflows.channels import models as channels_models  # noqa: F401
from workflows.documents import models as documents_models  # noqa: F401
from workflows.evaluations import models as evaluations_models  # noqa: F401
from workflows.library import models as library_models  # noqa: F401
from workflows.mentors import models as mentors_models  # noqa: F401
from workflows.publishing import models as publishing_models  # noqa: F401
from workflows.registry import models as registry_models  # noqa: F401
from workflows.withdrawals import models as withdrawals_models  # noqa: F401

metadata = Base.metadata
