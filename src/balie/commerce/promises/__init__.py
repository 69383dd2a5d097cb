"""Proactive delivery promises: the shop's settings, the monitor that finds broken promises,
the notice to the customer (with a voucher), the escalation when the new promise breaks too,
and the figures (docs/promises.md)."""
