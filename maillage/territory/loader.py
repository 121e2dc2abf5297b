"""Loading the communes shipped with the package (see data/NOTICE.txt)."""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any

from maillage.lib.names import normalise_name

DATA_FILE = "communes_centre_val_de_loire.csv"


def read_communes() -> list[dict[str, Any]]:
    text = (resources.files("maillage.territory") / "data" / DATA_FILE).read_text(encoding="utf-8")
    return [
        {
            "insee_code": row["insee_code"],
            "name": row["name"],
            "search_name": normalise_name(row["name"]),
            "departement": row["departement"],
            "population": int(row["population"]),
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
        }
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def load_communes(commune_model: Any) -> int:
    """Insert the communes not yet present; return how many were added.

    Takes the model class so that the data migration can pass its
    historical model.
    """
    known = set(commune_model.objects.values_list("insee_code", flat=True))
    missing = [commune_model(**row) for row in read_communes() if row["insee_code"] not in known]
    commune_model.objects.bulk_create(missing, batch_size=500)
    return len(missing)
