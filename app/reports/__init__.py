"""What the history says in aggregate: paths drawn on diagrams, heatmaps and variants (from the audit log and
the task projection)."""
