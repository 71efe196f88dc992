"""Process lifecycle: one gateway process from start to stop (locks, reload, crash loop, the services)."""
