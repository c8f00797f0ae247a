"""A static site's runtime configuration: one file written at deploy from the environment's
public settings, so one build serves every environment.

A static unit with ``runtime-config = "config.js"`` (or ``"config.json"``) gets that file
written at deploy from its settings in the environment: the keys of its ``env`` table and
its ``required-env``, never a secret (a secret-env key among them is a config error; a value
that is secret in the environment -- a reference, or one that looks like a credential --
is refused before anything is deployed). ``config.js`` is ``window.__CONFIG__ = {...};``
(the name is ``runtime-config-global``), ``config.json`` the JSON itself.

The file is not part of the release: a built file at that path is not published (the
build's placeholder for development), so the release id -- the build's content -- is the
same in every environment, and promotion copies the very files staging verified. The
deployed revision is the release plus the config's hash (``<release>+<config>``): the
ledger records it, ``status`` shows it, and a rollback puts that config back too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from shipyard.core.errors import ConfigError, ShipyardError

if TYPE_CHECKING:
    from shipyard.core.project import Unit
    from shipyard.settings import Settings

SUFFIXES = {".js": "text/javascript; charset=utf-8", ".json": "application/json"}
_GLOBAL = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
SEPARATOR = "+"  # <release>+<config hash>: a revision that carries its runtime config


@dataclass(frozen=True)
class RuntimeFile:
    """The runtime config of one site in one environment, rendered."""

    path: str  # in the site, e.g. config.js
    body: bytes
    content_type: str
    digest: str  # 12 hex digits of the body's sha256

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix


def config_keys(unit: Unit) -> list[str]:
    """The settings a runtime config publishes: the unit's ``env`` keys and ``required-env``."""
    return sorted({*unit.settings["env"], *unit.settings["required-env"]})


def excludes(unit: Unit) -> list[str]:
    """What of a build is not published: ``publish-exclude``, and the runtime config's path."""
    own = unit.settings.get("runtime-config", "")
    return [*unit.settings["publish-exclude"], *([own] if own else [])]


def check_units(units: Iterable[Unit]) -> None:
    """At load: the path's suffix, the global's name, and no secret-env key published (nor in build-env)."""
    for unit in units:
        if unit.kind == "static":
            _check_build_env(unit)
        path = unit.settings.get("runtime-config", "")
        if unit.kind != "static" or not path:
            continue
        where = f"{unit.source}: runtime-config"
        if PurePosixPath(path).suffix not in SUFFIXES or path.startswith("/") or ".." in path.split("/"):
            raise ConfigError(
                f"{where}: {path!r} is not a .js or .json path inside the site",
                hint='e.g. runtime-config = "config.js" (window.__CONFIG__ = {...}) or "config.json"',
            )
        if not _GLOBAL.match(unit.settings["runtime-config-global"]):
            raise ConfigError(f"{unit.source}: runtime-config-global: not a JavaScript identifier")
        _no_secret_config(unit, where, path)


def _check_build_env(unit: Unit) -> None:
    secret = sorted(set(unit.settings.get("build-env", [])) & set(unit.settings["secret-env"]))
    if secret:
        raise ConfigError(
            f"{unit.source}: build-env: would bake {', '.join(secret)}, declared secret (secret-env), into the build",
            hint="a static site's files are public: keep secrets out of build-env",
        )


def _no_secret_config(unit: Unit, where: str, path: str) -> None:
    secret = sorted(set(config_keys(unit)) & set(unit.settings["secret-env"]))
    if secret:
        raise ConfigError(
            f"{where}: would publish {', '.join(secret)}, declared secret (secret-env), in {path}",
            hint="a static site's files are public: keep secrets out of its env and required-env",
        )


def declared(unit: Unit) -> str:
    """The unit's runtime-config path; "" when it has none."""
    return str(unit.settings.get("runtime-config", "")) if unit.kind == "static" else ""


def runtime_config(env: str, unit: Unit, settings: Settings) -> RuntimeFile | None:
    """The unit's runtime config in ``env`` (None when it declares none). Raises ShipyardError
    naming the key when a value is secret: nothing is written, nothing deployed."""
    path = declared(unit)
    if not path:
        return None
    values: dict[str, str] = {}
    for key in config_keys(unit):
        setting = settings.get(key)
        if setting is None:
            continue  # a required key that is unset: check_required names it before a deploy
        if setting.secret:
            raise ShipyardError(
                f"{unit.name}: runtime-config {path} would publish {key}, which is secret in {env!r} "
                f"({setting.source})",
                hint="a static site's files are public: give it a non-secret value, or drop the key "
                "from the unit's env/required-env",
            )
        values[key] = str(setting.value)
    return render(path, values, unit.settings["runtime-config-global"])


def render(path: str, values: dict[str, str], name: str = "__CONFIG__") -> RuntimeFile:
    """``config.js``: ``window.<name> = {...};``; ``config.json``: the JSON."""
    suffix = PurePosixPath(path).suffix
    document = json.dumps(values, indent=2, sort_keys=True)
    text = f"window.{name} = {document};\n" if suffix == ".js" else document + "\n"
    body = text.encode()
    return RuntimeFile(path, body, SUFFIXES[suffix], hashlib.sha256(body).hexdigest()[:12])


def revision(release: str, config: str) -> str:
    """The deployed revision: the release, plus the runtime config's hash when there is one."""
    return f"{release}{SEPARATOR}{config}" if config else release


def split(revision_: str) -> tuple[str, str]:
    """``<release>+<config>`` into (release, config hash); no config: (release, "")."""
    release, _, config = revision_.partition(SEPARATOR)
    return release, config
