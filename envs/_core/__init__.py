"""What several env families share: the registry, the conformance checks and the privacy contract."""
