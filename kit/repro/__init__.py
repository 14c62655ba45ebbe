"""``dotkit repro``: a customer's app, reproduced in the sandbox, and one bundle about it.

``archive`` unpacks what the customer sent without trusting it; ``source``
tells the layout and names the ticket; ``masking`` hides every secret;
``probes`` and ``collect`` gather what happened; ``verdict`` and ``bundle``
render it (pure); ``run`` does the steps in order.
"""
