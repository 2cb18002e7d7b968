"""The sandbox account's functions: a mid-size company's Lambda estate, current and deprecated runtimes —
some shipped through aliases (``prod`` still on a published version on a deprecated runtime while ``$LATEST``
is current; one weighted ``prod``), some with layers built for an old runtime.

Data only (``app/local/seed.py`` creates it). Deterministic: the same functions, configurations, tags and
code on every run. The secret-looking environment values are fake and exist so tests can prove that no tool
ever returns them (``SECRET_VALUES``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Architecture = Literal["x86_64", "arm64"]

ACCOUNT_ALIAS = "acme-sandbox"
ROLE_NAME = "acme-lambda-basic-execution"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

STRIPE_SECRET_KEY = "sk_live_sandbox_DO_NOT_LEAK_4eC39HqLyjWDarjtT1zdp7dc"  # noqa: S105 - fake
LEGACY_STRIPE_KEY = "sk_live_sandbox_DO_NOT_LEAK_51Hx9LegacyCheckout0Tq"
BILLING_DB_PASSWORD = "sandbox-DO-NOT-LEAK-billing-Pr0d!2026"  # noqa: S105 - fake
PRICING_DB_PASSWORD = "sandbox-DO-NOT-LEAK-pricing-hunter2"  # noqa: S105 - fake
SLACK_WEBHOOK = "https://hooks.slack.com/services/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"
SECRET_VALUES = frozenset(
    {STRIPE_SECRET_KEY, LEGACY_STRIPE_KEY, BILLING_DB_PASSWORD, PRICING_DB_PASSWORD, SLACK_WEBHOOK}
)

COST_CENTERS = {
    "billing": "CC-4300",
    "data": "CC-5100",
    "finance": "CC-7100",
    "growth": "CC-6100",
    "identity": "CC-1100",
    "inventory": "CC-4600",
    "logistics": "CC-4500",
    "media": "CC-6200",
    "notifications": "CC-1200",
    "orders": "CC-4200",
    "payments": "CC-4100",
    "platform": "CC-1000",
    "search": "CC-4400",
    "security": "CC-1300",
    "support": "CC-8100",
}


@dataclass(frozen=True)
class SeedLayer:
    """A layer version as its publisher declared it (``None``: not declared)."""

    name: str
    runtimes: tuple[str, ...] | None
    architectures: tuple[str, ...] | None
    description: str


LAYERS: tuple[SeedLayer, ...] = (
    SeedLayer("numpy-pandas-py38", ("python3.8",), ("x86_64",), "numpy + pandas native wheels for python3.8"),
    SeedLayer(
        "sharp-image-node16", ("nodejs16.x", "nodejs18.x"), ("x86_64",), "sharp (libvips) for Node 16/18"
    ),
    SeedLayer("acme-common-utils", None, None, "shared helpers; declares no runtimes"),
)


@dataclass(frozen=True)
class SeedFunction:
    name: str
    runtime: str | None  # None: a container image function (PackageType Image has no runtime)
    team: str
    env: str
    memory: int
    timeout: int
    arch: Architecture
    description: str
    environment: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    image: str | None = None  # repository:tag in the account's ECR registry, for image functions
    # Runtimes of the published versions 1, 2, ... in order; $LATEST moves on to ``runtime`` afterwards.
    versions: tuple[str, ...] = ()
    # alias → version number, or (primary, {other version: weight}) for weighted routing
    aliases: dict[str, str | tuple[str, dict[str, float]]] = field(default_factory=dict)
    layers: tuple[str, ...] = ()  # names from LAYERS (version 1 of each)

    @property
    def tags(self) -> dict[str, str]:
        return {"team": self.team, "env": self.env, "cost-center": COST_CENTERS[self.team]}


F = SeedFunction
# fmt: off
FUNCTIONS: tuple[SeedFunction, ...] = (
    # Node.js
    F("orders-api-prod", "nodejs22.x", "orders", "prod", 1024, 29, "arm64",
      "Orders REST API: create, read and cancel orders",
      {"ORDERS_TABLE": "orders-prod", "NODE_OPTIONS": "--enable-source-maps", "LOG_LEVEL": "info"},
      reserved_concurrency=200,
      versions=("nodejs16.x", "nodejs16.x", "nodejs22.x"), aliases={"prod": "2", "staging": "3"}),
    F("orders-api-staging", "nodejs22.x", "orders", "staging", 512, 29, "arm64",
      "Orders REST API (staging)", {"ORDERS_TABLE": "orders-staging", "LOG_LEVEL": "debug"}),
    F("checkout-session-handler", "nodejs22.x", "payments", "prod", 768, 15, "arm64",
      "Creates Stripe checkout sessions for the web shop",
      {"STRIPE_SECRET_KEY": STRIPE_SECRET_KEY, "STRIPE_API_VERSION": "2024-06-20"},
      versions=("nodejs18.x", "nodejs22.x"), aliases={"prod": ("2", {"1": 0.1})}),
    F("notifications-email-sender", "nodejs22.x", "notifications", "prod", 256, 60, "arm64",
      "Sends transactional email from the notifications SQS queue"),
    F("catalog-search-indexer", "nodejs20.x", "search", "prod", 2048, 300, "x86_64",
      "Streams catalog DynamoDB changes into the OpenSearch index",
      versions=("nodejs14.x", "nodejs16.x", "nodejs20.x"), aliases={"live": "3"}),
    F("cart-service-prod", "nodejs20.x", "orders", "prod", 512, 10, "arm64", "Shopping cart API"),
    F("webhooks-dispatcher", "nodejs20.x", "platform", "prod", 256, 30, "x86_64",
      "Delivers outgoing partner webhooks with retries"),
    F("growth-ab-assignment", "nodejs20.x", "growth", "prod", 128, 3, "arm64",
      "Assigns visitors to A/B test variants at the edge of the API"),
    F("user-profile-api", "nodejs18.x", "identity", "prod", 512, 10, "x86_64",
      "User profile read/update API"),
    F("image-thumbnail-generator", "nodejs18.x", "media", "prod", 3008, 120, "x86_64",
      "Generates thumbnails for images uploaded to the media bucket", layers=("sharp-image-node16",)),
    F("slack-alerts-forwarder", "nodejs18.x", "platform", "prod", 128, 10, "x86_64",
      "Forwards CloudWatch alarms to Slack", {"SLACK_WEBHOOK_URL": SLACK_WEBHOOK}),
    F("legacy-checkout-webhook", "nodejs16.x", "payments", "prod", 256, 30, "x86_64",
      "Stripe webhook receiver of the old checkout (still receives refunds)",
      {"STRIPE_SECRET_KEY": LEGACY_STRIPE_KEY}),
    F("marketing-landing-ssr", "nodejs16.x", "growth", "prod", 1024, 15, "x86_64",
      "Server-side renders the marketing landing pages"),
    F("partner-feed-exporter", "nodejs16.x", "data", "staging", 512, 180, "x86_64",
      "Exports the product feed for marketplace partners (staging)"),
    F("legacy-report-cron", "nodejs14.x", "finance", "prod", 512, 900, "x86_64",
      "Nightly finance report, EventBridge schedule 02:00 UTC"),
    F("coupon-validator-v1", "nodejs14.x", "growth", "prod", 128, 6, "x86_64",
      "Validates coupon codes (v1 API)"),
    F("cognito-pre-token-trigger", "nodejs12.x", "identity", "prod", 128, 5, "x86_64",
      "Cognito pre-token-generation trigger: adds tenant claims"),
    # Python
    F("billing-invoice-generator", "python3.13", "billing", "prod", 1536, 300, "arm64",
      "Generates monthly invoices from usage records",
      {"DB_HOST": "billing-prod.cluster-c9sandbox.us-east-1.rds.amazonaws.com", "DB_USER": "invoicer",
       "DB_PASSWORD": BILLING_DB_PASSWORD, "POWERTOOLS_SERVICE_NAME": "billing-invoices"}),
    F("inventory-sync-worker", "python3.13", "inventory", "prod", 1024, 120, "arm64",
      "Syncs stock levels from the warehouse system every 5 minutes"),
    F("feature-flags-api", "python3.13", "platform", "dev", 256, 10, "arm64",
      "Feature flag evaluation API (dev)"),
    F("data-etl-daily-orders", "python3.12", "data", "prod", 3008, 900, "arm64",
      "Daily orders ETL into the data lake (Parquet on S3)"),
    F("fraud-score-model", "python3.12", "payments", "prod", 2048, 30, "x86_64",
      "Scores card payments for fraud risk", reserved_concurrency=50,
      versions=("python3.9",), aliases={"prod": "1"}),
    F("support-ticket-triage", "python3.12", "support", "prod", 512, 60, "arm64",
      "Classifies incoming support tickets and routes them to queues",
      versions=("python3.8", "python3.9", "python3.12"), aliases={"prod": "3"}),
    F("billing-usage-aggregator", "python3.11", "billing", "prod", 1024, 600, "arm64",
      "Aggregates hourly metered usage per customer"),
    F("s3-upload-virus-scan", "python3.11", "security", "prod", 3008, 300, "x86_64",
      "Scans new S3 uploads with ClamAV and quarantines infected objects"),
    F("customer-export-csv", "python3.9", "data", "prod", 1024, 900, "x86_64",
      "Exports customer data to CSV on request (GDPR)"),
    F("cloudwatch-logs-to-opensearch", "python3.9", "platform", "prod", 512, 60, "x86_64",
      "Ships CloudWatch Logs subscriptions to OpenSearch"),
    F("legacy-pricing-engine", "python3.8", "orders", "prod", 1024, 30, "x86_64",
      "Price calculation for the old storefront",
      {"DB_HOST": "pricing.c9sandbox.us-east-1.rds.amazonaws.com", "DB_PASSWORD": PRICING_DB_PASSWORD},
      layers=("numpy-pandas-py38",)),
    F("cost-anomaly-notifier", "python3.8", "finance", "prod", 256, 60, "x86_64",
      "Posts AWS cost anomalies to the finance channel", layers=("acme-common-utils",)),
    F("legacy-etl-nightly", "python3.7", "data", "prod", 2048, 900, "x86_64",
      "Nightly ETL of the legacy MySQL warehouse"),
    # Java
    F("payments-ledger-writer", "java21", "payments", "prod", 2048, 60, "arm64",
      "Writes double-entry ledger records for settled payments", reserved_concurrency=100),
    F("shipping-rate-calculator", "java21", "logistics", "prod", 1536, 20, "arm64",
      "Calculates carrier shipping rates"),
    F("loyalty-points-service", "java17", "growth", "prod", 1024, 30, "x86_64", "Loyalty points accrual API"),
    F("warehouse-pick-optimizer", "java17", "logistics", "prod", 3008, 300, "x86_64",
      "Optimises warehouse pick routes for the next wave"),
    F("invoice-pdf-renderer", "java11", "billing", "prod", 2048, 120, "x86_64", "Renders invoice PDFs"),
    F("erp-sync-adapter", "java8.al2", "finance", "prod", 1536, 900, "x86_64",
      "Synchronises journal entries with the ERP"),
    F("legacy-soap-bridge", "java8", "finance", "prod", 1024, 60, "x86_64",
      "SOAP bridge to the bank's payment file interface"),
    # .NET
    F("hr-timesheet-api", "dotnet8", "support", "prod", 512, 30, "arm64", "Internal timesheet API"),
    F("tax-calculation-service", "dotnet8", "billing", "prod", 1024, 15, "x86_64",
      "Sales tax calculation for invoices"),
    F("legacy-crm-sync", "dotnet6", "growth", "prod", 768, 300, "x86_64", "Syncs leads to the old CRM"),
    # Ruby
    F("status-page-updater", "ruby3.3", "platform", "prod", 256, 30, "arm64",
      "Updates the public status page"),
    F("github-webhook-receiver", "ruby3.2", "platform", "dev", 256, 15, "x86_64",
      "Receives GitHub webhooks for the deploy bot (dev)"),
    F("legacy-mailer-digest", "ruby2.7", "notifications", "prod", 512, 300, "x86_64",
      "Weekly digest email (old mailer)"),
    # Go and OS-only runtimes
    F("geoip-lookup-service", "go1.x", "platform", "prod", 256, 5, "x86_64", "GeoIP lookup API"),
    F("legacy-metrics-shipper", "go1.x", "platform", "prod", 128, 60, "x86_64",
      "Ships StatsD metrics to the old Graphite cluster"),
    F("edge-auth-authorizer", "provided.al2023", "identity", "prod", 128, 5, "arm64",
      "JWT authorizer for the public APIs (Rust)"),
    F("telemetry-ingest", "provided.al2023", "data", "prod", 512, 30, "arm64",
      "Ingests app telemetry into Kinesis (Go)"),
    F("pdf-compressor", "provided.al2", "media", "prod", 1024, 60, "x86_64",
      "Compresses uploaded PDFs (Rust)"),
    # Container images: no runtime
    F("ml-recommendations-inference", None, "data", "prod", 3008, 60, "x86_64",
      "Product recommendations model (container image)", image="ml-recommendations:2026.10.2"),
    F("video-transcode-worker", None, "media", "prod", 2048, 900, "arm64",
      "Transcodes uploaded videos with ffmpeg (container image)", image="video-transcode:1.14.0"),
)
# fmt: on
