"""opentms: a self-hostable Token Management Service speaking the CyberSource TMS API."""

__version__ = "0.1.0"
