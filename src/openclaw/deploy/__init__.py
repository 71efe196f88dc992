"""Taking this host's instances elsewhere: manifests for an orchestrator (Kubernetes today)."""
