"""What the flows show and read, beside the steps that hold them.

``text.py`` turns typed text into values and back (and shown text into safe
Markdown); ``account_forms.py`` holds the account flow's forms and what they map
to; ``account.py``, ``grant_steps.py`` and ``relink_steps.py`` are the account
flow's state and its step groups; ``endpoint_forms.py`` holds the endpoint flow's
forms and what they map to, and ``preview.py`` its preview (a test request, and
what it shows).
"""
