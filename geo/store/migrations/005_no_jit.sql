-- Just-in-time compilation costs tens of milliseconds per query and pays off only on long
-- analytical scans, which the app does in GeoPandas, not in SQL.
ALTER ROLE gcrm_app SET jit = off;
