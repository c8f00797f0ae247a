"""shipyard: build, test and deploy the services of a Python monorepo."""

from __future__ import annotations

__version__ = "0.1.0"
