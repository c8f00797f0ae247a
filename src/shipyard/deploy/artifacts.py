"""What a deploy ships: each service's image in the environment's registry, by digest.

The one place the deploy code touches the images package. ``lookup`` answers "is the
image of this fingerprint in the registry, and under which digest?" with one manifest
request and no side effects (for ``--plan``); ``ensure`` builds and pushes what is
missing (the push jobs of shipyard.images skip what is already there).
Units without an image (static sites) are named by content: ``site`` builds the site
(skipped when already built for this fingerprint) and its artifact is the hash of its
published files, so the same files are the same release whatever the fingerprint.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.deploy.target import Release

if TYPE_CHECKING:
    from shipyard.images.jobs import Destination


class Artifacts:
    """Releases of one environment's services, from one checkout of the repository."""

    def __init__(
        self, project: Project, env: str, *, verbose: bool = False, say: Callable[[str], None] = print
    ) -> None:
        from shipyard.images.settings import Checkout

        self.project, self.env, self.verbose, self.say = project, env, verbose, say
        self.checkout = Checkout.read(project.root)
        self._destination: Destination | None = None

    @property
    def git_sha(self) -> str:
        rev = self.checkout.revision
        return rev.sha + ("-dirty" if rev.dirty and rev.sha else "")

    def fingerprint(self, unit: Unit) -> str:
        from shipyard.images.settings import build_fingerprint

        return build_fingerprint(self.project, unit, self.checkout.files).digest

    def _dest(self) -> Destination:
        from shipyard.images.jobs import Destination

        if self._destination is None:
            self._destination = Destination.of(self.project, self.env, verbose=self.verbose)
        return self._destination

    def lookup(self, unit: Unit) -> Release:
        """The release of ``unit`` as it stands: artifact "" when the image is not pushed yet."""
        fingerprint = self.fingerprint(unit)
        if not unit.has_image:
            return Release(unit.name, fingerprint, "", self.git_sha)
        dest = self._dest()
        digest = dest.lookup(unit.name, fingerprint[:16])
        artifact = f"{dest.registry.image(unit.name)}@{digest}" if digest and digest != "unknown" else ""
        return Release(unit.name, fingerprint, artifact, self.git_sha)

    def site(self, unit: Unit, env: str = "") -> Release:
        """The release of a static unit, named by the content of its built site: built with the
        ``build-env`` values of ``env`` (default: this environment's)."""
        from shipyard.deploy.target import DeployFailed
        from shipyard.deploy.targets.site import build_site
        from shipyard.images.static import build_env

        release = self.lookup(unit)
        values = build_env(self.project, env or self.env, unit)
        try:
            site = build_site(self.project, unit, release.fingerprint, values)
        except DeployFailed as exc:
            raise ShipyardError(f"cannot deploy: {exc.reason}", hint=f"fix the build of {unit.name}") from None
        return replace(release, artifact=site.release_id)

    def ensure(self, units: Sequence[Unit]) -> dict[str, Release]:
        """Build and push the images that are missing; the release of every unit, by digest."""
        from shipyard.images.build import BuildOptions
        from shipyard.images.jobs import push_jobs
        from shipyard.run.jobs import run_jobs

        images = [u for u in units if u.has_image]
        # scans=False: no scan-ecr here; the gate (require-scan) reads the scans ci or a push recorded
        options = BuildOptions(verbose=self.verbose)
        jobs = push_jobs(self.project, images, self.env, options, checkout=self.checkout, scans=False)
        workers = max(1, min(len(jobs), os.cpu_count() or 1))
        results = run_jobs(jobs, workers=workers, keep_going=True, verbose=self.verbose, report=self.say)
        broken = [r for r in results if not r.ok]
        if broken:
            raise ShipyardError(
                "cannot deploy: images not in the registry: " + "; ".join(f"{r.unit}: {r.reason}" for r in broken),
                hint=f"fix the build, or push first: invoke push --env {self.env}",
            )
        releases = {u.name: self.lookup(u) for u in units if not u.has_image}
        for unit, result in zip(images, results, strict=True):
            digest = result.details["digest"]
            if not digest or digest == "unknown":
                raise ShipyardError(f"{unit.name}: the registry reported no digest for the pushed image")
            ref = f"{self._dest().registry.image(unit.name)}@{digest}"
            releases[unit.name] = Release(unit.name, result.details["fingerprint"], ref, self.git_sha)
        return releases
