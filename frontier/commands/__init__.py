"""The light CLI verbs (no ML imports): validate and crd."""
