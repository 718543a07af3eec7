"""Provides the screens and dialogs of the workbench."""
