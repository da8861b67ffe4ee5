"""Test-only helpers (a throwaway PostgreSQL, sample bounces), shared with bench/."""
