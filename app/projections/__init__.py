"""A plan's derived state (its evaluation, audit and attention, worklist entry and renderings),
computed in one step per transaction from inputs declared once."""
