"""What several env families share: the registry and the conformance checks."""
