"""Files that ship with Hearth (the icon, the starter catalog), found the same way in a source
checkout, an installed wheel and a frozen bundle.

The repository keeps them in `resources/` and `models/`; the wheel carries those folders as
the packages `app.bundled_resources` and `app.bundled_models` (see pyproject's package-dir),
so an installed Hearth finds them through importlib.resources.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"resources": "app.bundled_resources", "models": "app.bundled_models"}


def bundled_file(folder: str, name: str) -> Path | None:
    """The shipped file `folder/name` ('resources' or 'models', as in the repository), or None if missing."""
    try:
        path = Path(str(resources.files(PACKAGES[folder]) / name))
    except ModuleNotFoundError:  # a source checkout (or a frozen bundle): the folders sit beside `app/`
        path = SOURCE_ROOT / folder / name
    return path if path.is_file() else None
