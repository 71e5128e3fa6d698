"""Reading the JSON documents that stages hand to each other, validated against their schemas
(``pgx/schemas/*.schema.json``), with one-line errors naming the file and the fix."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from pgx.errors import InputError

SCHEMAS = Path(__file__).resolve().parent / "schemas"


@functools.lru_cache(maxsize=None)
def validator(schema_name: str):
    """A JSON Schema validator for ``pgx/schemas/<schema_name>``."""
    import jsonschema

    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def read_document(path: str | Path, schema_name: str, what: str, fix: str) -> dict:
    """Parse ``path`` and validate it; ``what`` names the document ("pgx calls JSON")."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: {what} not found; {fix}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot be read ({exc}); {fix}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}: not valid JSON ({exc.msg}); {fix}") from None
    errors = sorted(validator(schema_name).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(x) for x in e.absolute_path) or "top level"
        raise InputError(f"{p}: not a {what} ({where}: {e.message[:200]}); {fix}")
    return doc
