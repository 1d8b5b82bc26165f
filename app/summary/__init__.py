"""The patient's plan summary: what the examination found, the plan, discharge, the program."""
