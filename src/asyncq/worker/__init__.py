"""The long-running components of a server: one module per component.

The processor leases and runs tasks; the heartbeat publishes what runs and keeps leases
alive; the recoverer, forwarder and janitor move tasks between states on a timer; the
aggregator turns ready groups into single tasks; the subscriber turns pub/sub messages
into cancellations and wake-ups; the syncer retries completion writes that failed; the
health check reports whether Redis answers. :mod:`asyncq.server` wires them together.
"""
