"""Test doubles for what a provisioning test cannot reach: GitHub's REST API, the
runner release download and micromamba. They live under tests/ only."""
