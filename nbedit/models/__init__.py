"""Model folders: discovery, loading, residency (filled in by the generative-clips issue)."""
