"""The names of a policy set's folder: its manifest and its expectations. In a module of
their own so that code deciding whether a file is friction's (the pytest plugin, which
pytest loads in every session) need not import the engine to know them."""

__all__ = ["MANIFEST_FILE", "EXPECTATIONS_DIR"]

MANIFEST_FILE = "policy-set.yaml"
EXPECTATIONS_DIR = "expectations"
