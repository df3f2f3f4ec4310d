"""Labels the pages show for the core's names (KPIs …)."""

from __future__ import annotations

KPI_LABELS = {
    "accounts": "Accounts",
    "customers": "Customers",
    "revenue": "Revenue, 12 months",
    "revenue_previous": "Revenue, 12 months before",
    "growth": "Growth (%)",
    "pipeline": "Pipeline",
    "visits": "Visits, 12 months",
    "quota": "Quota",
    "quota_attainment": "Quota attainment (%)",
    "population": "Population",
    "penetration": "Customers per 10,000 people",
}
"""KPI → label, for territory pages."""
KPI_KINDS = {
    **dict.fromkeys(("accounts", "customers", "visits", "population"), "count"),
    **dict.fromkeys(("revenue", "revenue_previous", "pipeline", "quota"), "money"),
    **dict.fromkeys(("growth", "quota_attainment"), "percent"),
    "penetration": "rate",
}
"""KPI → how its values read (see :mod:`geo.formatting`)."""
