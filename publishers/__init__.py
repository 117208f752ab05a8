"""Publishers: render a release to files once, then sync them to a backend (local catalog or CKAN)."""
