"""The one error type the command line turns into a one-line message and a non-zero exit."""


class CCLEError(Exception):
    """A user-facing problem (bad file, unknown drug, too few cell lines): printed as one line, exit code 2."""
