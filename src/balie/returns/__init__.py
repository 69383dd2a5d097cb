"""Returns under Dutch and EU consumer law: withdrawal cases, their deadlines and the refund."""
