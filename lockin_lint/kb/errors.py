"""The one exception of the knowledge base.

Its own module so that `ruleset` (imported on every run) and `loader` (imported only when the
compiled-rules cache misses) can both raise it without importing each other.
"""


class RuleError(Exception):
    """A rule file is unusable; the message is one line naming file, rule and line."""
