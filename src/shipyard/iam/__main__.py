"""``python -m shipyard.iam``: print the generated IAM section of docs/github-actions.md."""

from __future__ import annotations

from shipyard.iam.doc import reference

print(reference())
