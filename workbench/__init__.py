"""M365 BEC Workbench: a terminal workbench for Microsoft 365 business-email-compromise cases."""

__version__ = "0.1.0"
