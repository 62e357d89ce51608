"""The resolver ``info`` type, bound to GovHub's typed context."""

import strawberry

from gateway.context import Context

Info = strawberry.Info[Context, None]
