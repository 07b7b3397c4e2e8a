"""Package data: the JSON schema of config.yaml (as YAML)."""
