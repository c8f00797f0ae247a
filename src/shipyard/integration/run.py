"""One integration run: the units' images, the stack up and healthy, the tests, the logs of a
failure, and a teardown that always happens (also on Ctrl-C and SIGTERM: while it runs, both
are ignored, by shipyard and by the compose commands it starts, so it cannot be cut short)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.ci import compose
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, shipyard_dir
from shipyard.core.secrets import redact
from shipyard.github import output as gha
from shipyard.integration.plan import TASK, UNIT, Plan, plan, project_name
from shipyard.run.proc import Command, command, run
from shipyard.run.results import FAILED, PASSED, Result, summary_table, write_report

if TYPE_CHECKING:
    from shipyard.ci.pipeline import RunOptions
    from shipyard.images.build import BuildOptions
    from shipyard.images.settings import Checkout

LOG_LINES = 40  # of each service, shown when the tests fail
_LABEL = "label=com.docker.compose.project="


def integration(project: Project, options: RunOptions) -> list[Result]:
    """Run the stack's tests (or take their passed result from the cache); print the summary."""
    from shipyard.images.build import BuildOptions
    from shipyard.images.settings import Checkout
    from shipyard.run.cache import ResultCache

    shipyard_dir(project.root)
    checkout = Checkout.read(project.root)
    the_plan = plan(project, checkout.files)
    cache = ResultCache.of(project, read=options.cache)
    result = cache.lookup([(TASK, the_plan.key)]).get(the_plan.key)
    if result is not None:
        print("integration: cached: these images, compose files and tests passed before; nothing to run", flush=True)
    else:
        result = run_plan(project, the_plan, checkout, BuildOptions(verbose=options.verbose))
        cache.store(TASK, the_plan.key, result)
    print()
    print(summary_table([result]))
    for path in options.reports:
        write_report(path, [result])
    gha.publish([result], {}, title="shipyard integration")  # a no-op outside GitHub Actions
    return [result]


def run_plan(project: Project, the_plan: Plan, checkout: Checkout, options: BuildOptions) -> Result:
    """Build, start, wait, test; the compose project is removed however this ends."""
    start = time.monotonic()
    images, failed = build_images(project, the_plan, checkout, options)
    if failed is not None:
        return replace(failed, unit=UNIT, task=TASK, duration=time.monotonic() - start)
    with tempfile.TemporaryDirectory(prefix="shipyard-integration-") as work:
        files = (*the_plan.files, *([override(Path(work), the_plan, images)] if images else []))
        stack = compose.Stack(the_plan.root, compose.cli(), files, project_name(the_plan.root), role="service")
        print(f"integration: compose project {stack.name} ({' '.join(stack.cli)})", flush=True)
        try:
            status, reason, output = up_and_test(stack, the_plan, verbose=options.verbose)
        finally:
            teardown(stack)
    details = {"compose-project": stack.name, "images": images}
    return Result(UNIT, TASK, status, time.monotonic() - start, reason, output, details=details)


def build_images(
    project: Project, the_plan: Plan, checkout: Checkout, options: BuildOptions
) -> tuple[dict[str, str], Result | None]:
    """Service -> image id of each unit the stack runs, built (or found) as `invoke build` does."""
    from shipyard.images.jobs import build_jobs

    wanted = {s: u for s, u in the_plan.units.items() if s in the_plan.needed}
    units = list({u.name: u for u in wanted.values()}.values())
    if units:
        print(f"integration: images of {', '.join(u.name for u in units)}", flush=True)
    ids: dict[str, str] = {}
    for job in build_jobs(project, units, options, checkout=checkout):
        assert job.action is not None  # units with an image: an action each
        result = job.action()
        if not result.ok:
            return {}, replace(result, reason=f"the image of {job.unit} was not built: {result.reason}")
        ids[job.unit] = str(result.details["image_id"])
        print(f"  {job.unit}: {result.reason}", flush=True)
    return {service: ids[unit.name] for service, unit in wanted.items()}, None


def override(folder: Path, the_plan: Plan, images: Mapping[str, str]) -> Path:
    """The compose file that puts shipyard's images in (JSON is YAML; the base's version, if any)."""
    import yaml

    base = yaml.safe_load(the_plan.files[0].read_text(encoding="utf-8"))
    head = {"version": base["version"]} if isinstance(base, dict) and "version" in base else {}
    path = folder / "docker-compose.shipyard.yml"
    body = {**head, "services": {service: {"image": image} for service, image in images.items()}}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return path


def up_and_test(stack: compose.Stack, the_plan: Plan, *, verbose: bool) -> tuple[str, str, str]:
    """(status, reason, output) of starting the stack and running the tests."""
    # the started services and what they and the test service depend on (a dependency of the
    # test service alone is started too: it is waited for)
    running = [s for s in the_plan.needed if s != the_plan.settings.service]
    if running:  # `up` of no service would start them all, the test service too
        print(f"integration: starting {', '.join(running)}", flush=True)
        done = run(stack.compose("up", "-d", *running), stream=verbose)
        if not done.ok:
            return _up_failed(stack, running, done.output, done.returncode)
        try:
            stack.wait(running)  # a service that exits or turns unhealthy: its logs are shown, then this raises
        except ShipyardError as exc:
            return FAILED, exc.message, ""
        print(f"integration: healthy: {', '.join(running)}", flush=True)
    tests = tests_command(stack, the_plan)
    print(f"integration: running the tests: {tests}", flush=True)
    done = run(tests, stream=verbose)
    if done.ok:
        return PASSED, "", done.output
    if not verbose:
        print(_block("test output", done.output), end="", file=sys.stderr, flush=True)
    logs = service_logs(stack, running)
    return FAILED, f"the tests failed: `{tests}` exited {done.returncode}", done.output + logs


def _up_failed(stack: compose.Stack, running: list[str], output: str, code: int) -> tuple[str, str, str]:
    """`up` gave up (a dependency's health condition, a missing image): what broke, with its logs."""
    compose.show_tail(redact(output))
    broken = {c.service: c.broken for c in stack.containers() if c.broken}
    logs = service_logs(stack, [s for s in running if s in broken] or running)
    why = ", ".join(f"service {s} is {what}" for s, what in broken.items())
    return FAILED, (f"{why} (" if why else "(") + f"`compose up` exited {code})", output + logs


def tests_command(stack: compose.Stack, the_plan: Plan) -> Command:
    settings = the_plan.settings
    if settings.service:
        return stack.compose("run", "--rm", "-T", settings.service)
    env = {
        "COMPOSE_FILE": os.pathsep.join(str(p) for p in stack.files),
        "COMPOSE_PATH_SEPARATOR": os.pathsep,
        "COMPOSE_PROJECT_NAME": stack.name,
    }
    return command(*settings.command, cwd=the_plan.root, env=env)


def service_logs(stack: compose.Stack, services: list[str]) -> str:
    """The last log lines of each service, with its state (printed, and returned for the result)."""
    states = {c.service: c for c in stack.containers()}
    shown = []
    for service in services:
        found = states.get(service)
        state = "no container" if found is None else ", ".join(filter(None, (found.status, found.health)))
        logs = run(stack.compose("logs", "--no-color", "--tail", str(LOG_LINES), service)).output
        shown.append(_block(f"{service} ({state}): its last {LOG_LINES} log lines", logs))
    text = "".join(shown)
    print(text, end="", file=sys.stderr, flush=True)
    return text


def _block(title: str, text: str) -> str:
    lines = redact(text).rstrip().splitlines()
    return f"── {title} ──\n" + "".join(f"    {line}\n" for line in lines)


def teardown(stack: compose.Stack) -> None:
    """Remove the project's containers (one-off `run` ones too), networks and volumes."""
    with _shielded():
        # --rmi local: the images compose built itself for this project (a `build:` service with
        # no `image:`); each run's project is new, so they would pile up. Named images stay.
        run(stack.compose("down", "--volumes", "--remove-orphans", "--rmi", "local", "--timeout", "5"))
        left = sweep(stack.name)
    extra = f" (and {left} left over by an interrupted command)" if left else ""
    print(f"integration: removed compose project {stack.name}{extra}", flush=True)


def sweep(name: str) -> int:
    """Remove whatever still carries the project's label; how many there were."""
    count = 0
    for kind, remove in (("container", ("rm", "--force", "--volumes")), ("network", ("rm",)), ("volume", ("rm",))):
        listing = ("ps", "-aq") if kind == "container" else (kind, "ls", "-q")
        found = run(command("docker", *listing, "--filter", _LABEL + name)).output.split()
        if found:
            run(command("docker", *(() if kind == "container" else (kind,)), *remove, *found))
        count += len(found)
    return count


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """SIGINT and SIGTERM ignored for the block, by this process and the children it starts then
    (an ignored signal stays ignored across exec): a second Ctrl-C cannot cut the teardown short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
