"""The ``alembic`` migration tool: the status script run with the image's own Python and alembic."""

from __future__ import annotations

# Prints "current <rev>" and "pending <rev>" lines through the service's own env.py (which
# knows how to connect), without changing anything. With a second argument "upgrade" (the
# one-off ECS task, whose only output is its log), it then runs `alembic upgrade head` and
# prints "now <rev>": the revision the database is at afterwards, read back from it.
STATUS_SCRIPT = """\
import logging
import sys
from alembic import command
if not logging.getLogger().handlers:  # alembic's own lines (Running upgrade ...), unless env.py sets logging up
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s")
logging.getLogger("alembic").setLevel(logging.INFO)
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
config = Config(sys.argv[1])
script = ScriptDirectory.from_config(config)
def status():
    seen = []
    def collect(rev, context):
        seen.append(",".join(context.get_current_heads()) or "base")
        seen.extend(s.revision for s in script.iterate_revisions("heads", rev))
        return []
    with EnvironmentContext(config, script, fn=collect, dont_mutate=True):
        script.run_env()
    return seen[0], seen[:0:-1]
current, pending = status()
print("current " + current, flush=True)
for revision in pending:
    print("pending " + revision, flush=True)
if sys.argv[2:] == ["upgrade"]:
    if pending:
        command.upgrade(config, "head")
    print("now " + status()[0], flush=True)
"""


class Alembic:
    upgrade_label = "alembic upgrade head"

    def status_argv(self, config: str, *, upgrade: bool) -> tuple[str, ...]:
        return ("python", "-c", STATUS_SCRIPT, config, *(("upgrade",) if upgrade else ()))

    def argv(self, config: str, *args: str) -> tuple[str, ...]:
        return ("alembic", "-c", config, *args)


TOOL = Alembic()
