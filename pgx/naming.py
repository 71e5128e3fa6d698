"""Sample names become parts of output file names: one check for every stage."""
from __future__ import annotations

import unicodedata

from pgx.errors import InputError


def check_sample_name(name: object, where: str = "",
                      fix: str = "rename the sample with `bcftools reheader -s`") -> str:
    """Return ``name`` if it is safe in a file name, else raise ``InputError`` (exit 3).

    Rejected: empty names, path separators ('/', '\\'), '..', a leading '.', and control or
    invisible formatting characters. ``where`` (a file) prefixes the message.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{prefix}sample name is empty; {fix}")
    bad = None
    if "/" in name or "\\" in name:
        bad = "a path separator"
    elif ".." in name:
        bad = "'..'"
    elif name.startswith("."):
        bad = "a leading '.'"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        bad = "a control character"
    if bad:
        raise InputError(f"{prefix}sample name {name!r} contains {bad} and cannot be used in an "
                         f"output file name; {fix}")
    return name
