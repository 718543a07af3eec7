"""Provides the synthetic Microsoft 365 audit-log generator behind ``../generate.py``."""
