"""The smoke check after a roll-out: HTTP GET on the service's health URL, with retries.

Target-independent: ``urls.<service>`` of the environment plus the unit's
``health-path``. No URL configured means no smoke check.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.core.project import Unit
from shipyard.deploy.target import DeployFailed


@dataclass(frozen=True)
class SmokeCheck:
    """Where and how persistently to check."""

    url: str
    attempts: int = 10
    interval: float = 3.0
    timeout: float = 5.0


def smoke_check_for(
    unit: Unit, environment: Mapping[str, Any], *, attempts: int = 10, interval: float = 3.0
) -> SmokeCheck | None:
    """The smoke check of ``unit`` in an environment, or None when it has no URL."""
    base = environment.get("urls", {}).get(unit.name, "")
    if not base:
        return None
    path = unit.settings.get("health-path", "")
    url = base.rstrip("/") + ("/" + path.lstrip("/") if path else "")
    return SmokeCheck(url, attempts, interval)


def _probe(url: str, timeout: float) -> str:
    """ "" when the URL answers 2xx, else a short reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except OSError as exc:
        return type(exc).__name__


def run_smoke_check(
    check: SmokeCheck, progress: Callable[[str], None], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Succeed on the first 2xx answer; raise DeployFailed after the last failed attempt."""
    reason = ""
    for attempt in range(1, check.attempts + 1):
        reason = _probe(check.url, check.timeout)
        if not reason:
            progress(f"smoke check passed: GET {check.url}")
            return
        progress(f"smoke check {attempt}/{check.attempts}: GET {check.url}: {reason}")
        if attempt < check.attempts:
            sleep(check.interval)
    raise DeployFailed(f"smoke check failed: GET {check.url}: {reason} (after {check.attempts} attempts)")
