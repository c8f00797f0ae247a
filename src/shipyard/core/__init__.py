"""The model: discovery, configuration and its schema, environments, the graph, fingerprints, registries, errors."""
