"""The Lambda operations domain: runtime catalog, audit, listing, sanitised reads, invoke, safe upgrade.

Knows nothing of MCP or HTTP. ``LambdaOps`` is the entry point; every method returns a pydantic result
model or an ``OpsError`` value. Importing this package does no I/O and creates no AWS client.
"""

from app.lambda_ops.audit import RuntimeAudit, RuntimeGroup
from app.lambda_ops.clients import ClientSettings, LambdaClients
from app.lambda_ops.detail import FunctionDetail, RuntimeAssessment
from app.lambda_ops.errors import ErrorKind, OpsError
from app.lambda_ops.facade import LambdaOps
from app.lambda_ops.functions import FunctionPage, FunctionSummary
from app.lambda_ops.invoke import InvokeResult
from app.lambda_ops.policy import WritePolicy
from app.lambda_ops.runtime_info import CatalogProvider, RuntimeCatalogResult, RuntimeInfo
from app.lambda_ops.runtimes import RuntimeStatus
from app.lambda_ops.upgrade.plan import Check, Outcome, UpgradeResult, UpgradeStep

__all__ = [
    "CatalogProvider",
    "Check",
    "ClientSettings",
    "ErrorKind",
    "FunctionDetail",
    "FunctionPage",
    "FunctionSummary",
    "InvokeResult",
    "LambdaClients",
    "LambdaOps",
    "OpsError",
    "Outcome",
    "RuntimeAssessment",
    "RuntimeAudit",
    "RuntimeCatalogResult",
    "RuntimeGroup",
    "RuntimeInfo",
    "RuntimeStatus",
    "UpgradeResult",
    "UpgradeStep",
    "WritePolicy",
]
