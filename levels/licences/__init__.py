"""E-licences (电子证照): issued when a case is approved, signed by the issuing org's
key, registered in the city's licence library, verified online and offline, and
reused as application materials."""
