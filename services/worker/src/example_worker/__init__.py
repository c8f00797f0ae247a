"""Background worker of the example system."""

__version__ = "0.1.0"
