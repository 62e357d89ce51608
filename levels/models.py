"""Every table of a level store, for Alembic and for tests."""

from levels.city import models as city_models
from levels.common.models import LevelBase
from levels.county import models as county_models

metadata = LevelBase.metadata

__all__ = ["city_models", "county_models", "metadata"]
