"""Star-allele definitions: the embedded panel (``resources/definitions``) or official tables."""
from __future__ import annotations

from pathlib import Path

from pgx.definitions.model import DefinitionSet
from pgx.errors import InputError


def load_definitions(spec: str | Path | None = None) -> DefinitionSet:
    """``None``/``"embedded"``: our curated panel; a directory of ``*_translation.json``:
    PharmCAT's published tables; a directory of ``*.yaml``: a panel in our own format."""
    if spec is None or str(spec) == "embedded":
        from pgx.definitions.embedded import load_embedded

        return load_embedded()
    path = Path(spec)
    if not path.is_dir():
        raise InputError(f"{path}: --definitions must be a directory (PharmCAT's definitions "
                         f"folder with *_translation.json, or a folder of pgx gene YAML files)")
    if any(path.glob("*_translation.json")):
        from pgx.definitions.pharmcat import load_pharmcat

        return load_pharmcat(path)
    if any(path.glob("*.yaml")):
        from pgx.definitions.embedded import load_embedded

        return load_embedded(path)
    raise InputError(f"{path}: no *_translation.json or *.yaml definition files found")
