"""The monthly compliance report of the 24 items (HTML, JSON, Markdown)."""
