"""Where moto 5.2.5 falls short of AWS for what the sandbox serves, patched here (never in the shipped app).

- CloudWatch percentiles: ``GetMetricData`` with ``Stat: p99`` (any ``pNN``) makes moto compute ``None`` and
  fail the whole call (``float(None)``: a 500). AWS answers the percentile of the bucket's values. The patch
  computes it (nearest rank) from the individual values put (``Value`` / ``Values`` + ``Counts``); a
  pre-aggregated datum (``StatisticValues``) contributes its average, as the best moto can know of it.

``apply()`` is idempotent; the sandbox child calls it before seeding, tests call it before using moto.
"""

from __future__ import annotations

import math
import re
from typing import Any

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_applied = False


def percentile(values: list[float], rank: float) -> float | None:
    """Nearest-rank percentile (``rank`` in 0..100) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum, Statistics

    original = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = _PERCENTILE.match(stat)
        if match is None:
            return original(self, stat)
        values = [m.value for m in self.metric_data or [] if isinstance(m, MetricDatum)]
        for datum in self.metric_data or []:
            if isinstance(datum, MetricAggregatedDatum) and datum.sample_count:
                values.append(datum.sum / datum.sample_count)
        return percentile(values, float(match.group(1)))

    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]
    _applied = True
