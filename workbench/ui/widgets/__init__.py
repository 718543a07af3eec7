"""Provides the widgets of the workbench."""
