from __future__ import annotations

import pytest

from maillage.front.indicators import SMALL_CELL, patients_by_departement, structures_by_kind
from maillage.front.tests.test_home import signed_in
from maillage.testing import factories as f
from maillage.testing.factories import page_text


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_see_aggregates(personas, who) -> None:
    response = signed_in(personas.user(who)).get("/indicateurs/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Structures par type" in text and "Patients par département de résidence" in text


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["treating_doctor", "coordinator", "patient_user"])
def test_others_do_not(personas, who) -> None:
    assert signed_in(personas.user(who)).get("/indicateurs/").status_code == 403


@pytest.mark.django_db
def test_small_counts_are_hidden_and_no_patient_is_named(personas) -> None:
    for i in range(SMALL_CELL + 1):
        f.patient(f"NOMBREUX{i}", "Léa", commune=f.commune("18033"))
    table = patients_by_departement()
    cells = dict(zip(table.columns, table.rows[0][1], strict=True))
    assert cells["18"].value == SMALL_CELL + 2 and not cells["18"].hidden
    response = signed_in(personas.analyst).get("/indicateurs/")
    text = page_text(response)
    assert "GIRARD" not in text and "NOMBREUX" not in text
    structures = structures_by_kind()
    msp_row = next(cells for label, cells in structures.rows if "MSP" in label)
    assert all(cell.hidden for cell in msp_row if cell.value)
    assert f"< {SMALL_CELL}" in text
