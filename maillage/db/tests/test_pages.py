"""page_and_total and counted_page: the page and the count of one statement agree with two."""

from __future__ import annotations

import pytest

from maillage.db.pages import counted_page, page_and_total
from maillage.territory.models import Commune

pytestmark = pytest.mark.django_db


def _communes():
    return Commune.objects.filter(departement="18").order_by("insee_code")


def test_the_page_and_the_total_are_those_of_a_slice_and_a_count() -> None:
    everything = list(_communes())
    assert len(everything) > 45

    rows, total = page_and_total(_communes(), 20, 20)

    assert rows == everything[20:40]
    assert total == len(everything)


def test_past_the_last_row_and_for_no_page_the_total_is_counted() -> None:
    count = _communes().count()

    assert page_and_total(_communes(), count + 5, 20) == ([], count)
    assert page_and_total(_communes(), 0, 0) == ([], count)
    assert page_and_total(Commune.objects.none(), 0, 20) == ([], 0)


def test_a_page_beyond_the_last_is_the_last_as_get_page_gives_it() -> None:
    everything = list(_communes())
    last_number = (len(everything) + 19) // 20

    page = counted_page(_communes(), 999, 20)

    assert page.number == last_number
    assert list(page.object_list) == everything[(last_number - 1) * 20 :]
    assert page.paginator.count == len(everything)
    assert page.has_previous() and not page.has_next()


def test_an_empty_list_has_one_empty_page() -> None:
    page = counted_page(Commune.objects.none(), 3, 20)

    assert page.number == 1 and list(page.object_list) == []
    assert page.paginator.count == 0 and not page.has_other_pages()
