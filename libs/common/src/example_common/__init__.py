"""Shared code for the example system: database access, the job queue, job processing."""

__version__ = "0.1.0"
