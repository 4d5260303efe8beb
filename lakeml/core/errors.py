"""The two kinds of failure a user can meet, mapped to the CLI's exit codes in one place.

`UsageError` means the user asked for something that cannot be done as asked (bad flag, bad config):
exit 2, and the message says what to change. `LakemlError` means the work itself failed: exit 1.
"""

from __future__ import annotations


class LakemlError(Exception):
    """The work failed (exit code 1). The message says what happened and what to do next."""

    exit_code = 1


class UsageError(LakemlError):
    """Bad usage or configuration (exit code 2). The message names the key/flag and the fix."""

    exit_code = 2


class ConfigError(UsageError):
    """A setting has a value lakeml cannot use."""
