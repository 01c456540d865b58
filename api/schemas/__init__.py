"""Request and response bodies, one family per resource (``XCreate``, ``XPublic``, ``XsPublic``)."""
