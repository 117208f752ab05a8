"""Commands of this group are added by their module owner (see docs/ARCHITECTURE.md)."""
