"""Prefect flows: orchestration only (the monthly release, deployments)."""
