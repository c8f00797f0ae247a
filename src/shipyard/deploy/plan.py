"""The deploy plan: frozen values saying what a deploy will do, rendered for ``--plan``.

Per service: the release (fingerprint, image digest, git sha), what runs now, the diff
(image, changed setting keys — never values —, cpu/memory), pending migrations, and the
waves of the roll-out (``deploy-after`` order; a wave's services deploy in parallel).
Services whose deployed fingerprint and task definition already match, as the ledger's
newest successful release of them, are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.core.secrets import redact
from shipyard.deploy.migrate import Migration, MigrationStatus, migration_for
from shipyard.deploy.target import Change, Release, Running

if TYPE_CHECKING:
    from shipyard.deploy.artifacts import Artifacts
    from shipyard.deploy.ledger import Entry
    from shipyard.deploy.session import Session
    from shipyard.settings import Settings


@dataclass(frozen=True)
class ServicePlan:
    """One service in a plan."""

    service: str
    target: str
    release: Release
    running: Running | None
    changes: tuple[Change, ...]
    migration: Migration | None = None
    migration_status: MigrationStatus | None = None  # None: not known before the image exists
    promoted_from: str = ""  # the environment that verified this release
    note: str = ""
    forced: str = ""  # what --force overrode for this service (CI gate, promote-from); in the ledger


@dataclass(frozen=True)
class DeployPlan:
    """What ``invoke deploy`` will do in one environment."""

    env: str
    protected: bool
    services: tuple[ServicePlan, ...]
    waves: tuple[tuple[str, ...], ...]
    up_to_date: tuple[str, ...] = ()

    def service(self, name: str) -> ServicePlan:
        return next(s for s in self.services if s.service == name)


def deployable(project: Project, names: Sequence[str], environment: Mapping[str, object]) -> list[Unit]:
    """The named services; when none are named, every unit whose kind has a target in the environment."""
    if names:
        units = project.select(names)
        libs = [u.name for u in units if u.is_lib]
        if libs:
            raise ShipyardError(f"{', '.join(libs)}: libs are not deployed", hint="name the services that use them")
        return units
    kinds = environment.get("targets") or {}
    return [u for u in project.units.values() if not u.is_lib and u.kind in kinds]  # type: ignore[operator]


def waves(project: Project, selected: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Roll-out order: each wave after the services it names in ``deploy-after``."""
    chosen = set(selected)
    after: dict[str, set[str]] = {}
    for name in selected:
        unit = project.units[name]
        for dep in unit.settings.get("deploy-after", []):
            if dep not in project.units or project.units[dep].is_lib:
                raise ConfigError(f"{unit.source}: deploy-after: unknown service {dep!r}")
        after[name] = set(unit.settings.get("deploy-after", [])) & chosen
    order: list[tuple[str, ...]] = []
    done: set[str] = set()
    while len(done) < len(chosen):
        ready = tuple(sorted(n for n in chosen - done if after[n] <= done))
        if not ready:
            raise ConfigError("deploy-after: cycle among " + ", ".join(sorted(chosen - done)))
        order.append(ready)
        done.update(ready)
    return tuple(order)


def _placeholder(release: Release) -> Release:
    """For a diff before the image exists: name it by fingerprint."""
    return release if release.artifact else replace(release, artifact=f"<{release.fingerprint[:16]}: to be built>")


def promoted(
    session: Session, source: Session | None, unit: Unit, release: Release, force: bool, artifacts: Artifacts
) -> tuple[Release, str]:
    """With ``promote-from``: the exact artifact the other environment verified (or refuse)."""
    if source is None:
        return release, ""
    per_environment = bool(unit.settings.get("build-env"))  # a site built with each environment's values
    entry = source.ledger.verified(unit.name, fingerprint=release.fingerprint)
    if entry is None and not unit.has_image:
        # A new fingerprint with the same site is "up to date" there, so it has no entry of
        # its own: only the content (the build, with the source's build-env) can tell whether it was verified.
        entry = source.ledger.verified(unit.name, artifact=artifacts.site(unit, source.env).artifact)
    if entry is not None and per_environment:
        # the source staging verified, built here with this environment's build-env (artifact: the build's)
        return replace(release, artifact="", git_sha=entry.git_sha or release.git_sha), source.env
    if entry is not None:
        return replace(release, artifact=entry.artifact, git_sha=entry.git_sha or release.git_sha), source.env
    if force:
        return release, ""
    raise ShipyardError(
        f"{unit.name}: {release.fingerprint[:16]} was never deployed successfully to {source.env!r}; "
        f"{session.env!r} only takes releases {source.env!r} verified",
        hint=f"deploy it to {source.env} first (invoke deploy --env {source.env}), or pass --force",
    )


def service_plan(
    session: Session, unit: Unit, release: Release, settings: Settings, *, promoted_from: str = ""
) -> ServicePlan:
    """One service's plan: what runs, the diff, and the migration to run."""
    target = session.targets.for_unit(unit)
    running = target.current(unit)
    changes = tuple(target.diff(unit, _placeholder(release), settings))
    migration = migration_for(unit, release.artifact, session.environment, session.env) if unit.has_image else None
    return ServicePlan(unit.name, target.name, release, running, changes, migration, promoted_from=promoted_from)


def differs(sp: ServicePlan) -> bool:
    """The target does not run this release as planned: nothing runs, a diff (settings, sizes),
    or another release -- neither the fingerprint nor the artifact (a static site's content) match."""
    if sp.running is None or sp.changes:
        return True
    same_artifact = bool(sp.release.artifact) and sp.running.artifact == sp.release.artifact
    return sp.running.fingerprint != sp.release.fingerprint and not same_artifact


def unrecorded(sp: ServicePlan, recorded: Entry | None) -> bool:
    """``recorded`` (the ledger's newest successful release of the service) is not what runs."""
    runs = (sp.running.fingerprint, sp.running.revision) if sp.running else None
    return recorded is None or (recorded.fingerprint, recorded.revision) != runs


def needs_deploy(sp: ServicePlan, recorded: Entry | None) -> bool:
    """Up to date only when the target runs this release unchanged *and* the ledger's newest
    successful release is that one: a release left live by a failed, interrupted or unrecorded
    deploy is deployed again, never "up to date"."""
    return differs(sp) or unrecorded(sp, recorded)


UNRECORDED = "what runs is not the ledger's newest successful release (a failed or unrecorded deploy): deploying it"


def build_plan(
    session: Session,
    units: Sequence[Unit],
    settings: Mapping[str, Settings],
    artifacts: Artifacts,
    *,
    build: bool,
    force: bool = False,
) -> DeployPlan:
    """The plan for ``units``; with ``build``, missing images are built and pushed first."""
    promote_env = session.environment.get("promote-from", "")
    source = session.other(promote_env) if promote_env else None
    releases: dict[str, tuple[Release, str]] = {}
    for unit in units:
        releases[unit.name] = promoted(session, source, unit, artifacts.lookup(unit), force, artifacts)
    missing = [u for u in units if u.has_image and not releases[u.name][0].artifact]
    if build and missing:
        for name, release in artifacts.ensure(missing).items():
            releases[name] = (release, "")
    for unit in units:
        # promoted ones are never rebuilt, unless built per environment (build-env: from the verified source)
        if not unit.has_image and not releases[unit.name][0].artifact:
            releases[unit.name] = (artifacts.site(unit), releases[unit.name][1])
    plans = [
        service_plan(session, u, releases[u.name][0], settings[u.name], promoted_from=releases[u.name][1])
        for u in units
    ]
    recorded = session.ledger.current_of(u.name for u in units)
    chosen = [
        p if differs(p) else replace(p, note=UNRECORDED) for p in plans if needs_deploy(p, recorded.get(p.service))
    ]
    kept = {p.service for p in chosen}
    return DeployPlan(
        session.env,
        session.protected,
        tuple(chosen),
        waves(session.project, [p.service for p in chosen]),
        tuple(p.service for p in plans if p.service not in kept),
    )


def with_status(plan: DeployPlan, statuses: Mapping[str, MigrationStatus]) -> DeployPlan:
    """The plan with pending migrations filled in."""
    services = tuple(replace(s, migration_status=statuses.get(s.service, s.migration_status)) for s in plan.services)
    return replace(plan, services=services)


def _short(artifact: str) -> str:
    repo, sep, digest = artifact.partition("@")
    return f"{repo}@{digest[:19]}" if sep else artifact


def _change_line(change: Change) -> str:
    if change.field == "image":
        return f"image: {_short(change.old) or '(none)'} -> {_short(change.new)}"
    if not change.old:
        return f"{change.field}: {change.new}"
    return f"{change.field}: {change.old} -> {change.new}"


def _migration_line(sp: ServicePlan) -> str:
    if sp.migration is None:
        return ""
    status = sp.migration_status
    if status is None:
        how = f"as a one-off {sp.target} task" if sp.migration.in_target else "before the roll-out"
        return f"migrations: {sp.migration.upgrade_label} {how} (pending revisions not known yet)"
    if not status.pending:
        return f"migrations: none pending (at {status.current})"
    return f"migrations: {', '.join(status.pending)} pending (at {status.current})"


def render(plan: DeployPlan) -> str:
    """The plan as text; secret values cannot appear (keys only, then redacted again)."""
    head = f"deploy plan for {plan.env}" + (" (protected)" if plan.protected else "")
    if not plan.services:
        lines = [f"{head}: nothing to deploy"]
    else:
        lines = [f"{head}: {len(plan.services)} service(s)"]
        for sp in plan.services:
            fp = sp.release.fingerprint[:16]
            git = f", git {sp.release.git_sha[:12]}" if sp.release.git_sha else ""
            lines.append(f"  {sp.service} ({sp.target}) fingerprint {fp}{git}")
            if sp.promoted_from:
                lines.append(f"    promoted: the release {sp.promoted_from} verified")
            lines.append(f"    now: {sp.running.revision if sp.running else 'not deployed'}")
            if sp.note:
                lines.append(f"    note: {sp.note}")
            if sp.forced:
                lines.append(f"    forced: {sp.forced}")
            lines += [f"    {_change_line(c)}" for c in sp.changes]
            if _migration_line(sp):
                lines.append(f"    {_migration_line(sp)}")
        lines.append("  order: " + " -> ".join(" + ".join(w) for w in plan.waves))
    if plan.up_to_date:
        lines.append("up to date: " + ", ".join(plan.up_to_date))
    return redact("\n".join(lines))
