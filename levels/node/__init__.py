"""What one node serves, below its API (``schema/node``): the divisions it owns and the
refusal of the others (``scope``), its rows read by key and by key range (``reads``),
and its inbox for signed envelopes (``inbox``)."""
