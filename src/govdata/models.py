"""Imports every capability's tables so that ``Base.metadata`` (Alembic, tests) sees them all."""

from govdata.aggregation import models as aggregation_models  # noqa: F401
from govdata.aggregation import pull_models as aggregation_pull_models  # noqa: F401
from govdata.catalog import models as catalog_models  # noqa: F401
from govdata.core import audit, calendar, jobs, policy  # noqa: F401
from govdata.core.db import Base
from govdata.evaluation import models as evaluation_models  # noqa: F401
from govdata.libraries import models as libraries_models  # noqa: F401
from govdata.notifications import models as notifications_models  # noqa: F401
from govdata.objections import models as objections_models  # noqa: F401
from govdata.opening import models as opening_models  # noqa: F401
from govdata.opening import public_models as opening_public_models  # noqa: F401
from govdata.orgs import models as orgs_models  # noqa: F401
from govdata.projects import models as projects_models  # noqa: F401
from govdata.quality import models as quality_models  # noqa: F401
from govdata.sharing import interface_models as sharing_interface_models  # noqa: F401
from govdata.sharing import models as sharing_models  # noqa: F401
from govdata.sharing import subscription_models as sharing_subscription_models  # noqa: F401
from govdata.supervision import models as supervision_models  # noqa: F401

metadata = Base.metadata
