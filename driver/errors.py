"""The one exception the command line turns into a single line on stderr."""


class UserError(Exception):
    """Bad input or environment: reported as one line, exit status 2."""
