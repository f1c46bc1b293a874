"""Engines run operations: `local` in this process (threads); a Ray engine plugs in beside it."""
