"""Images: hermetic, content-addressed Docker builds, pushed to ECR or any OCI registry.

- settings.py  what an image is (settings, fingerprint, names, git revision)
- context.py   the build context: Dockerfile, deps/ wheels, app/ wheels, unit/ files
- interpreter.py the base image's Python (environment markers), read once per image id
- wheels.py    host-side wheel download (pins for the image's Python, cached) and wheel builds
- plan.py      docker commands as values
- build.py     one unit's build: skip when the fingerprint tag exists locally
- builders/    the image builders (registry): docker (buildx or the classic builder)
- registry.py  registries: manifest lookup (one request), push, digest
- auth.py      registry requests with Docker's credentials (Basic/Bearer challenge, tokens per scope)
- ecr.py       Amazon ECR: repository (settings only on create), lookups, tags, authorization token, login
- prune.py     ECR housekeeping after a push, sparing every digest an environment's ledger still references
- static.py    static units (no image): their build command, skipped when unchanged
- jobs.py      build/push jobs for workflow.run_jobs (also used by `invoke ci`)
"""

from __future__ import annotations
