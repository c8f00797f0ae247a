"""One shape for every pluggable part: a registry of named plugins.

A plugin has a name, an implementation of its kind's protocol, its own configuration keys
(:class:`shipyard.core.schema.Field` specs) and capabilities (named things it can do, which
generic code asks for instead of asking which plugin it has). Lookups of unknown names
fail with a did-you-mean ConfigError; the configuration reference and validation take
the plugins' keys from the registry, so there is no second list to keep in step.

A registry line is either a :class:`Plugin` or the name of a module whose ``PLUGIN`` it is
(imported when the registry is first used: importing a registry does nothing). A plugin's
implementation may be given as ``"module:attribute"``, imported on first use, so that a
registry of heavy plugins (deploy targets import docker/boto3 helpers) costs nothing until
one is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from shipyard.core.errors import ConfigError, did_you_mean
from shipyard.core.schema import Field

P = TypeVar("P")


@dataclass(frozen=True)
class Plugin(Generic[P]):
    """One plugin of a registry."""

    name: str
    implementation: P | str  # the object, or "module:attribute" imported on first use
    fields: Mapping[str, Field] = field(default_factory=dict)  # its own configuration keys
    capabilities: frozenset[str] = frozenset()
    doc: str = ""

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def load(self) -> P:
        if not isinstance(self.implementation, str):
            return self.implementation
        module, _, attr = self.implementation.partition(":")
        return cast(P, getattr(importlib.import_module(module), attr))


class Registry(Generic[P]):
    """The plugins of one kind, by name; ``capabilities`` names (and documents) what they may declare."""

    def __init__(
        self, kind: str, plugins: Iterable[Plugin[P] | str], capabilities: Mapping[str, str] | None = None
    ) -> None:
        self.kind = kind
        self.capabilities: Mapping[str, str] = dict(capabilities or {})
        self._lines = list(plugins)
        self._loaded: dict[str, Plugin[P]] | None = None

    @property
    def _plugins(self) -> dict[str, Plugin[P]]:
        if self._loaded is None:
            loaded: dict[str, Plugin[P]] = {}
            for line in self._lines:
                self._add(loaded, line if isinstance(line, Plugin) else _module_plugin(line))
            self._loaded = loaded
        return self._loaded

    def _add(self, plugins: dict[str, Plugin[P]], plugin: Plugin[P]) -> None:
        unknown = sorted(plugin.capabilities - set(self.capabilities))
        if unknown:  # a typo in a registry line: fail on first use, in the tests
            raise ValueError(f"{self.kind} {plugin.name}: undeclared capabilities {unknown}")
        if plugin.name in plugins:
            raise ValueError(f"{self.kind} {plugin.name}: registered twice")
        plugins[plugin.name] = plugin

    def __iter__(self) -> Iterator[Plugin[P]]:
        return iter(self._plugins.values())

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def __len__(self) -> int:
        return len(self._plugins)

    def names(self) -> tuple[str, ...]:
        return tuple(self._plugins)

    def get(self, name: str, where: str = "") -> Plugin[P]:
        """The plugin called ``name``; a ConfigError (at ``where``, a config path) otherwise."""
        if name in self._plugins:
            return self._plugins[name]
        prefix = f"{where}: " if where else ""
        raise ConfigError(
            f"{prefix}unknown {self.kind} {name!r}{did_you_mean(name, self._plugins)}",
            hint=f"{self.kind}s: " + ", ".join(self._plugins),
        )

    def load(self, name: str) -> P:
        return self.get(name).load()

    def implementations(self) -> Mapping[str, P]:
        """The plugins' implementations by name, as a read-only mapping over this registry
        (nothing is loaded until a value is asked for)."""
        return _Implementations(self)

    def can(self, name: str, capability: str) -> bool:
        """Whether plugin ``name`` declares ``capability`` (which must be one this kind knows)."""
        if capability not in self.capabilities:
            raise ValueError(f"{self.kind}s have no capability {capability!r}")
        return self.get(name).can(capability)

    def having(self, capability: str) -> tuple[str, ...]:
        """The names of the plugins that declare ``capability``."""
        return tuple(p.name for p in self if self.can(p.name, capability))

    def fields(self) -> dict[str, Field]:
        """Every plugin's keys, each documented with the plugin it belongs to."""
        out: dict[str, Field] = {}
        for plugin in self:
            for key, spec in plugin.fields.items():
                owners = [*self.owners(key)]
                out[key] = _owned(spec, owners, self.kind)
        return out

    def owners(self, key: str) -> tuple[str, ...]:
        """The plugins that declare configuration key ``key``."""
        return tuple(p.name for p in self if key in p.fields)

    def check_keys(self, keys: Iterable[str], selected: Iterable[str], allowed: Iterable[str], where: str) -> None:
        """A key of a plugin that is not ``selected`` is an error naming its plugin, with a
        did-you-mean among the keys that apply here (``allowed``: the keys common to every plugin)."""
        chosen = set(selected)
        here = {*allowed, *(k for name in chosen if name in self for k in self.get(name).fields)}
        for key in keys:
            owners = self.owners(key)
            if not owners or chosen & set(owners):
                continue
            raise ConfigError(
                f"{where}.{key}: a key of the {' / '.join(owners)} {self.kind}, which this environment does not use"
                f"{did_you_mean(key, sorted(here))}",
                hint=f"{self.kind}s here: {', '.join(sorted(chosen)) or 'none'}; remove the key or select "
                f"{' / '.join(owners)}",
            )


class _Implementations(Mapping[str, P]):
    """``Registry.implementations()``: name -> implementation, iterating over the names."""

    def __init__(self, registry: Registry[P]) -> None:
        self._registry = registry

    def __getitem__(self, name: str) -> P:
        if name not in self._registry:
            raise KeyError(name)
        return self._registry.load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry.names())

    def __len__(self) -> int:
        return len(self._registry)


def _module_plugin(module: str) -> Plugin[Any]:
    plugin = getattr(importlib.import_module(module), "PLUGIN", None)
    if not isinstance(plugin, Plugin):
        raise ValueError(f"{module}: a registry line names a module without a PLUGIN")
    return plugin


def _owned(spec: Field, owners: list[str], kind: str) -> Field:
    label = f"[{' / '.join(owners)} {kind}]"
    return replace(spec, doc=f"{label} {spec.doc}".strip())
