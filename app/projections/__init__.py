"""A plan's derived state (its evaluation, audit and attention, worklist entry and renderings),
computed in one step per transaction from inputs declared once.

- `inputs`: which plans a changed row of each model feeds.
- `unit_of_work`: session events that collect those rows on every flush and run the step
  before commit (installed by `app.models`, which every process imports).
- `step`: each affected plan locked, computed (`compute`) and stored (`renderings`), with
  what changed between before and after.
- `clinic`: clinic-wide inputs, which make every plan of the clinic stale in one statement.
"""
