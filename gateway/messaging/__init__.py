"""Cross-node messages over a transport (DESIGN §2): the publisher moves outbox rows to
it, each node's consumer applies what comes for it. ``transport`` holds the interface
and the in-process bus, ``jetstream`` the NATS JetStream one, ``worker`` the steps."""
