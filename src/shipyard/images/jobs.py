"""Build and push jobs: one workflow.Job per unit, each ending as a Result whose details are
``{fingerprint, tags, digest, built, pushed, up_to_date}`` (plus ``image_id``/``registry``)."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.images import ecr, ecr_scan, static
from shipyard.images.auth import RegistryAuthError, denied, refused
from shipyard.images.build import BuildOptions, ensure_image, image_target
from shipyard.images.context import check_inputs
from shipyard.images.plan import push_command, push_refs, tag_command
from shipyard.images.registry import Registry, copy_tag, environment_registry, manifest_digest, pushed_digest
from shipyard.images.settings import Checkout, static_fingerprint
from shipyard.images.wheels import StepFailed
from shipyard.run.jobs import CHAIN, Job
from shipyard.run.proc import Completed, run
from shipyard.run.results import ERROR, FAILED, PASSED, Result

Work = Callable[[dict[str, Any]], str]  # fills the details, returns the result's note
# docker push's words for a registry that went away mid-push, and its retry countdown (noise then)
_GONE = re.compile(r"dial tcp \S+: connect: connection refused|connection reset by peer")
_RETRYING = re.compile(r"^\S+: Retrying in \d+ seconds?$")
# docker push's words for credentials a registry refused, or none where it wants some
_REFUSED = re.compile(r"^(unauthorized|denied|no basic auth credentials)\b.*$", re.M)


def _details() -> dict[str, Any]:
    return {"fingerprint": "", "tags": [], "digest": "", "built": False, "pushed": False, "up_to_date": False}


def outcome(unit: str, task: str, work: Work, *, refusal_ends_run: bool = False) -> Result:
    """Run ``work`` and turn how it ended into a Result (errors included, never raised; with
    ``refusal_ends_run``, a registry refusing the credentials is raised: it is the same for
    every image, one error for the run)."""
    details, start = _details(), time.monotonic()
    try:
        note = work(details)
    except StepFailed as exc:
        details["pushed"] = False
        return Result(unit, task, FAILED, time.monotonic() - start, exc.step, exc.output, details=details)
    except ShipyardError as exc:
        if refusal_ends_run and isinstance(exc, RegistryAuthError):
            raise
        details["pushed"] = False
        reason = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
        return Result(unit, task, ERROR, time.monotonic() - start, reason, details=details)
    return Result(unit, task, PASSED, time.monotonic() - start, note, details=details)


def _build_image(project: Project, unit: Unit, checkout: Checkout, options: BuildOptions, d: dict[str, Any]) -> str:
    target = image_target(project, unit, checkout)
    d.update(fingerprint=target.fingerprint.digest, tags=list(target.tags))
    check_inputs(project, unit, target.settings)
    built = ensure_image(project, target, checkout, options)
    d.update(built=built.built, up_to_date=not built.built, image_id=built.image_id)
    return f"built {target.identity}" if built.built else f"up to date: {target.identity}"


def _build_static(project: Project, unit: Unit, checkout: Checkout, options: BuildOptions, d: dict[str, Any]) -> str:
    fp = static_fingerprint(project, unit, checkout.files)
    values = static.build_env(project, project.settings["default-environment"], unit)  # build-env: for that one
    plan = static.static_build(project, unit, values)
    d.update(fingerprint=fp.digest)
    built = replace(fp, digest=static.build_digest(fp.digest, values))
    ran = static.build_static(plan, built, verbose=options.verbose, force=options.force)
    d.update(built=ran, up_to_date=not ran, output=str(plan.output.relative_to(project.root)))
    return f"built {unit.path}/{plan.output.name}/" if ran else f"up to date: {unit.path}/{plan.output.name}/"


def _skip(unit: Unit, task: str) -> Job | None:
    if unit.is_lib:
        return Job(unit.name, task, "", (), skip="a lib: built into the images of the services that use it")
    if task == "push" and not unit.has_image:
        return Job(unit.name, task, "", (), skip=f"{unit.kind}: no image (its output is deployed as is)")
    return None


def build_jobs(
    project: Project, units: Sequence[Unit], options: BuildOptions | None = None, *, checkout: Checkout | None = None
) -> list[Job]:
    """One build job per unit: an image for services, the build command for static units."""
    options = options or BuildOptions()
    checkout = checkout or Checkout.read(project.root)
    jobs = []
    for unit in units:
        work = _build_image if unit.has_image else _build_static
        action = partial(outcome, unit.name, "build", partial(work, project, unit, checkout, options))
        jobs.append(_skip(unit, "build") or Job(unit.name, "build", "", (), action=action))
    return jobs


def repository_names(project: Project) -> dict[str, str]:
    """The services that name their own repository (``repository = "cv_matcher"``)."""
    return {u.name: u.settings["repository"] for u in project.services if u.settings.get("repository")}


@dataclass
class Destination:
    """Where a push goes: an environment's registry; logs in (ECR) at most once per run."""

    name: str
    environment: Mapping[str, Any]
    registry: Registry
    verbose: bool = False
    project: Project | None = None  # for pruning: the other environments' ledgers
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _logged_in: bool = False

    @classmethod
    def of(cls, project: Project, name: str, *, verbose: bool = False) -> Destination:
        environment = project.environment(name)
        registry = environment_registry(environment, name, repository_names(project))
        return cls(name, environment, registry, verbose, project)

    def prepare(self, unit: str) -> ecr.Repository | None:
        """ECR: the unit's repository, created when missing (an existing one is left as it is)."""
        if self.registry.is_ecr:
            return ecr.ensure_repository(self.environment, self.registry, unit)
        return None

    @property
    def scans(self) -> bool:
        """ECR's image scan is read after each push (``ecr-scan``, an ECR registry)."""
        return self.registry.is_ecr and bool(self.environment.get("ecr-scan"))

    def prune(self, unit: str, pushed: str) -> str:
        """Opt-in ECR housekeeping after a push (``ecr-prune-keep``); the note says what it did."""
        keep = int(self.environment.get("ecr-prune-keep", 0))
        if not (self.registry.is_ecr and keep > 0 and self.project is not None):
            return ""
        from shipyard.images.prune import prune

        return prune(self.project, self.environment, self.registry, unit, keep, pushed).note()

    def lookup(self, unit: str, tag: str) -> str | None:
        """One request: the digest of ``unit:tag`` in the registry, or None."""
        if self.registry.is_ecr:
            return ecr.find_image(self.environment, self.registry, unit, tag)
        return manifest_digest(self.registry, unit, tag)

    def copy_tag(self, unit: str, source: str, tag: str) -> None:
        """In the registry: ``unit:tag`` names the image ``unit:source`` names (no bytes move)."""
        if self.registry.is_ecr:
            ecr.copy_tag(self.environment, self.registry, unit, source, tag)
        else:
            copy_tag(self.registry, unit, source, tag)

    def login(self) -> None:
        if not self.registry.is_ecr:
            return  # plain OCI registries: the user's docker login (if any) applies
        with self._lock:
            if self._logged_in:
                return
            done = run(ecr.login(self.environment, self.registry), stream=False)
            if not done.ok:
                raise StepFailed(f"docker login {self.registry.host} failed", done.output)
            self._logged_in = True


def push(pairs: Sequence[tuple[str, str]], *, verbose: bool = False) -> str:
    """Tag and push each (local, remote) pair in order; returns the digest the registry reported
    for the last (the fingerprint ref). A failure stops there: what follows is not pushed."""
    digest = ""
    for local, remote in pairs:
        for cmd in (tag_command(local, remote), push_command(remote)):
            done = run(cmd, stream=verbose and cmd.argv[1] == "push")
            if not done.ok:
                raise _refusal(done, remote) or _push_failed(done)
        digest = pushed_digest(done.output) or digest
    return digest


def _refusal(done: Completed, remote: str) -> RegistryAuthError | None:
    """A registry that turned docker's credentials (or their absence) away: one error for the run."""
    refusal = _REFUSED.search(done.output)
    if refusal is None:
        return None
    host, _, repository = remote.rpartition(":")[0].partition("/")
    if refusal.group(1) == "denied":
        return denied(host, repository, f"docker push: {refusal.group(0)}")
    return refused(host, repository, logged_in=refusal.group(1) == "unauthorized")


def _push_failed(done: Completed) -> StepFailed:
    """The failed step named with its reason when the registry stopped answering (the result's
    note then says why, not only an exit status), and docker's output without its retry countdown."""
    step = f"`{done.command}` exited {done.returncode}"
    gone = _GONE.search(done.output)
    if gone:
        step += f": the registry stopped answering ({gone.group(0)})"
    return StepFailed(step, "\n".join(line for line in done.output.splitlines() if not _RETRYING.match(line)))


def _same(found: str | None, digest: str) -> bool:
    return found is not None and (found == digest or "unknown" in (found, digest))


def _complete(dest: Destination, unit: str, fp_tag: str, tags: Sequence[str], digest: str) -> list[str]:
    """Put each of ``tags`` the registry lacks (or has on another image) on the fingerprint's
    image, in the registry; returns the tags it put. An image pushed by an earlier commit (or a
    push cut short) thereby gets this commit's git tag without a build or an upload."""
    put = [tag for tag in tags if not _same(dest.lookup(unit, tag), digest)]
    for tag in put:
        dest.copy_tag(unit, fp_tag, tag)
    return put


def _refuse_overwrite(dest: Destination, repository: ecr.Repository | None, unit: str, fp_tag: str) -> None:
    if repository is not None and repository.immutable and dest.lookup(unit, fp_tag):
        raise ShipyardError(
            f"--force would replace {dest.registry.image(unit)}:{fp_tag}, but the repository's tags are immutable",
            hint="push without --force (the registry has this fingerprint), or delete the image in ECR first",
        )


def _push_image(
    project: Project, unit: Unit, checkout: Checkout, options: BuildOptions, dest: Destination, d: dict[str, Any]
) -> str:
    target = image_target(project, unit, checkout)
    image, fp_tag = dest.registry.image(unit.name), target.fingerprint.short
    # A dirty tree's git tag names no reproducible state (and would clash in immutable repositories).
    local = target.tags if not target.revision.dirty else target.tags[:1]
    pairs = push_refs(local, image)
    d.update(fingerprint=target.fingerprint.digest, tags=[r for _, r in pairs], registry=dest.registry.host)
    check_inputs(project, unit, target.settings)
    repository = dest.prepare(unit.name)
    extra = ExtraTags(dest, unit.name, fp_tag, repository, *extra_tags(project, dest, target.revision.dirty))
    if options.force:
        _refuse_overwrite(dest, repository, unit.name, fp_tag)
    found = None if options.force else dest.lookup(unit.name, fp_tag)
    if found:
        return _tag_existing(dest, unit.name, fp_tag, pairs, found, extra, d)
    built = ensure_image(project, target, checkout, options)
    d.update(built=built.built, image_id=built.image_id)
    dest.login()
    d["digest"] = push(pairs, verbose=options.verbose)
    d["pushed"] = True
    note = extra.put(d["digest"], pairs[-1][0])
    d["tags"] += [f"{image}:{tag}" for tag in extra.done]
    also = f" (also as {', '.join(extra.done)})" if extra.done else ""
    return _joined(f"pushed {image}@{d['digest']}{also}", note, dest.prune(unit.name, d["digest"]))


def _tag_existing(
    dest: Destination,
    unit: str,
    fp_tag: str,
    pairs: Sequence[tuple[str, str]],
    found: str,
    extra: ExtraTags,
    d: dict[str, Any],
) -> str:
    """The registry has the fingerprint: put the tags it lacks on that image, in the registry."""
    image = dest.registry.image(unit)
    put = _complete(dest, unit, fp_tag, [ref.rsplit(":", 1)[1] for _, ref in pairs[:-1]], found)
    note = extra.put(found, None)
    put += extra.done
    d["tags"] += [f"{image}:{tag}" for tag in extra.done]
    d.update(digest=found, up_to_date=not put, pushed=bool(put))
    head = f"tagged {image}@{found} as " + ", ".join(put) if put else f"up to date: {image}@{found}"
    return _joined(head, note)


def _joined(head: str, *notes: str) -> str:
    return "; ".join((head, *(n for n in notes if n)))


_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
GIT_TAG = "{git-tag}"


def extra_tags(project: Project, dest: Destination, dirty: bool) -> tuple[list[str], list[str]]:
    """The environment's ``extra-tags``, ``{git-tag}`` replaced by HEAD's exact git tag: (tags to put,
    notes on those left out). A tag that is no image tag is a config error."""
    from shipyard.images.settings import exact_tag

    tags, skipped = [], []
    for tag in dest.environment.get("extra-tags", []):
        if tag != GIT_TAG:
            if not _TAG.match(tag):
                raise ConfigError(
                    f"[tool.shipyard.environments.{dest.name}] extra-tags: {tag!r} is not an image tag",
                    hint="use letters, digits, _ . - (at most 128, not starting with . or -), or {git-tag}",
                )
            tags.append(tag)
            continue
        git_tag = "" if dirty else exact_tag(project.root)
        if git_tag and _TAG.match(git_tag):
            tags.append(git_tag)
        elif git_tag:
            skipped.append(f"git tag {git_tag!r} is not an image tag")
    return list(dict.fromkeys(tags)), skipped


@dataclass
class ExtraTags:
    """Puts ``extra-tags`` on a pushed image where the repository allows; refusals are notes."""

    dest: Destination
    unit: str
    fp_tag: str
    repository: ecr.Repository | None
    tags: Sequence[str] = ()
    skipped: Sequence[str] = ()  # notes on tags left out ({git-tag} that is no image tag)
    done: list[str] = field(default_factory=list)

    def put(self, digest: str, local: str | None) -> str:
        """Point each tag at ``digest``: by ``docker push`` of ``local`` right after a push (the
        layers are there), else in the registry (manifest copy). Returns the note."""
        refused = list(self.skipped)
        for tag in self.tags:
            found = self.dest.lookup(self.unit, tag)
            if _same(found, digest):
                continue
            if found and self.repository is not None and self.repository.immutable:
                refused.append(f"{tag} names {found} and {self.repository.name}'s tags are immutable")
                continue
            try:
                self._put(tag, local)
            except ecr.TagRefused as exc:
                refused.append(exc.message)
                continue
            self.done.append(tag)
        return ("not tagged: " + "; ".join(refused)) if refused else ""

    def _put(self, tag: str, local: str | None) -> None:
        if local is None:
            self.dest.copy_tag(self.unit, self.fp_tag, tag)
            return
        ref = f"{self.dest.registry.image(self.unit)}:{tag}"
        try:
            push(((local, ref),), verbose=self.dest.verbose)
        except StepFailed as exc:
            # another run put the tag on another image since the lookup, in an immutable repository
            if _IMMUTABLE.search(exc.output):
                raise ecr.TagRefused(f"{ref} is taken and the repository's tags are immutable") from None
            raise


# ECR's words when docker push would move an immutable tag
_IMMUTABLE = re.compile(r"cannot be overwritten because the (repository|tag) is immutable", re.IGNORECASE)


def push_jobs(
    project: Project,
    units: Sequence[Unit],
    environment: str,
    options: BuildOptions | None = None,
    *,
    checkout: Checkout | None = None,
    refusal_ends_run: bool = True,
    scans: bool = True,
) -> list[Job]:
    """One push job per image unit: when the registry has the fingerprint tag, only add the tags
    it lacks (there, by manifest); else build if needed, and push. A registry refusing the
    credentials ends the run as one error, unless ``refusal_ends_run`` is off (`invoke ci`,
    where the lint and test results still count): then it is each push's result. With
    ``ecr-scan`` (an ECR registry) and ``scans``, a scan-ecr job per push reads ECR's scan of the pushed digest."""
    options = options or BuildOptions()
    dest = Destination.of(project, environment, verbose=options.verbose)
    checkout = checkout or Checkout.read(project.root)
    jobs = []
    for unit in units:
        work = partial(_push_image, project, unit, checkout, options, dest)
        action = partial(outcome, unit.name, "push", work, refusal_ends_run=refusal_ends_run)
        skipped = _skip(unit, "push")
        if skipped is not None or not (scans and dest.scans):
            jobs.append(skipped or Job(unit.name, "push", "", (), action=action))
            continue
        # the scan runs right after its push, in one chain (workflow.chained), with the digest it reported
        handoff, chain = ecr_scan.Handoff(), f"{CHAIN}{unit.name}"
        scan = partial(ecr_scan.scan_pushed, unit, dest.environment, dest.registry, handoff)
        jobs.append(Job(unit.name, "push", "", (), action=partial(handoff.keep, action), batch=chain))
        jobs.append(Job(unit.name, ecr_scan.TASK, "", (), action=scan, batch=chain))
    return jobs


def has_dockerfile(project: Project, unit: Unit) -> bool:
    return unit.has_image and (project.root / unit.path / unit.settings["dockerfile"]).is_file()


def ci_jobs(project: Project, units: Sequence[Unit], *, push_env: str = "", verbose: bool = False) -> list[Job]:
    """For `invoke ci`: build the images of the selected services that have a Dockerfile (push
    them too with ``push_env``) and run the build command of the selected static units, whose
    output is not pushed but must build. (`invoke build` reports a missing Dockerfile as an error.)"""
    images = [u for u in units if has_dockerfile(project, u)]
    sites = [u for u in units if u.kind == "static"]
    if not images and not sites:
        return []
    options = BuildOptions(verbose=verbose)
    checkout = Checkout.read(project.root)
    jobs = build_jobs(project, sites, options, checkout=checkout) if sites else []
    if images and shutil.which("docker") is None:
        task = "push" if push_env else "build"
        return jobs + [Job(u.name, task, "", (), skip="docker is not installed") for u in images]
    if push_env and images:
        return jobs + push_jobs(project, images, push_env, options, checkout=checkout, refusal_ends_run=False)
    return jobs + (build_jobs(project, images, options, checkout=checkout) if images else [])
