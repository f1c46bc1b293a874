"""Recipes: the workspace's log of operation runs written as readable YAML (`write`), checked
before anything runs (`load`), and replayed headless on any dataset (`replay`)."""
