"""IAM from the code: the table of AWS operations, the policy of an environment, the docs."""

from __future__ import annotations

from shipyard.iam.table import FEATURES, RESOURCES, TABLE, Operation, missing, operation_names

__all__ = ["FEATURES", "RESOURCES", "TABLE", "Operation", "missing", "operation_names"]
