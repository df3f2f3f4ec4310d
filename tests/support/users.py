"""Who the tests act as, the app role's password of test databases, and the day tests take as today."""

from __future__ import annotations

from datetime import date

from geo.store.users import ALL_ROWS, SignedIn

APP_PASSWORD = "gcrm-test-app-password"
"""The app role's password in every test database."""
TEST_ADMINS = (
    "t",
    "alice",
    "bob",
    "tester",
    "benchmark",
    "manager@test",
    "marketer@test",
    "rep@test",
)
"""Acting users of tests that are not about access: admins in every test database."""
ADMIN = SignedIn("t", "admin", "Test admin", ALL_ROWS)
"""The signed-in session of page tests that are not about access."""
TEST_TODAY = date(2026, 6, 15)
"""The date every test takes as today (``GCRM_TODAY``), whatever the machine's clock says."""
