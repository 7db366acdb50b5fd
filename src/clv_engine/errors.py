"""The one base class for problems a user can fix (bad params, bad input, unwritable output).

Stage entry points catch :class:`UserError`, print its message and exit with status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """A problem with the user's params, data or environment; the message says the fix."""
