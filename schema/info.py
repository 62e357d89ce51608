"""The resolver ``info`` type, bound to GovHub's typed context."""

import strawberry

from resolvers.context import Context

Info = strawberry.Info[Context, None]
