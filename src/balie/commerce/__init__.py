"""Commerce: the shop's orders, shipments and carrier events beside every conversation."""
