"""The GraphQL schema of GovHub: types, inputs, enums, scalars and the root Query,
Mutation and Subscription. ``schema/build.py`` assembles them (``build_schema``); this
package's own module imports nothing, so importing one of its types never loads the
whole API (and the resolvers it calls) first."""
