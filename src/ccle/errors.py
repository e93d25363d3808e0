"""The one error type the command line turns into a one-line message and a non-zero exit."""


class CCLEError(Exception):
    """A user-facing problem (bad file, unknown drug, too few cell lines): printed as one line, exit code 2.

    The message names the file (and line) or the option at fault; the command line never shows a traceback for
    it, and results finished before it stay on disk.

    Examples
    --------
    >>> from ccle.errors import CCLEError
    >>> str(CCLEError("drugs.csv:3: 'x' is not a number"))
    "drugs.csv:3: 'x' is not a number"
    """
