"""Every table of a level store, for Alembic and for tests."""

from levels.audit import models as audit_models
from levels.calendar import models as calendar_models
from levels.cases import models as case_models
from levels.city import models as city_models
from levels.common.models import LevelBase
from levels.county import models as county_models
from levels.evaluations import models as evaluation_models
from levels.idempotency import models as idempotency_models
from levels.licences import models as licence_models
from levels.notices import models as notice_models
from levels.outbox import models as outbox_models
from levels.proxy import models as proxy_models
from levels.supervision import models as supervision_models
from levels.village import models as village_models
from levels.windows import models as window_models

metadata = LevelBase.metadata

__all__ = [
    "audit_models",
    "calendar_models",
    "case_models",
    "city_models",
    "county_models",
    "evaluation_models",
    "idempotency_models",
    "licence_models",
    "metadata",
    "notice_models",
    "outbox_models",
    "proxy_models",
    "supervision_models",
    "village_models",
    "window_models",
]
