"""The queries stocksync itself runs, end to end over the shared dataset."""

from __future__ import annotations

from tests.groq.conftest import Run


def test_expired_reservations(run: Run) -> None:
    query = (
        '*[_type == "stockReservation" && status == "active"'
        " && dateTime(expiresAt) < dateTime($now)]"
        " | order(expiresAt asc) [0...100] {_id, _rev, expiresAt}"
    )
    assert run(query, now="2025-03-01T12:00:00Z") == [
        {"_id": "inventory.reservation.s1", "_rev": "r1", "expiresAt": "2025-03-01T11:00:00Z"}
    ]
    assert run(query, now="2025-03-01T12:00:01Z") == [
        {"_id": "inventory.reservation.s1", "_rev": "r1", "expiresAt": "2025-03-01T11:00:00Z"},
        {
            "_id": "inventory.reservation.s2",
            "_rev": "r2",
            "expiresAt": "2025-03-01T13:00:00+01:00",
        },
    ]
    assert run(query, now="not a timestamp") == []


def test_count_open_critical_errors(run: Run) -> None:
    query = 'count(*[_type == "errorLog" && severity == "critical" && resolved != true])'
    assert run(query) == 2


def test_products_by_id_or_slug(run: Run) -> None:
    query = (
        '*[_type == "product" && (_id in $ids || slug.current in $ids)]'
        '{_id, title, "slug": slug.current}'
    )
    assert run(query, ids=["p2", "mug"]) == [
        {"_id": "p1", "title": "Mug", "slug": "mug"},
        {"_id": "p2", "title": "Tee", "slug": "tee"},
    ]
    assert run(query, ids=[]) == []


def test_published_and_draft_copies_of_a_product(run: Run) -> None:
    assert run('*[_id in [$id, "drafts." + $id]]{_id}', id="p1") == [
        {"_id": "p1"},
        {"_id": "drafts.p1"},
    ]


def test_recent_errors_by_created_at(run: Run) -> None:
    docs = [
        {"_id": "old", "_type": "syncError", "_createdAt": "2025-02-27T12:00:00.000Z"},
        {"_id": "new", "_type": "syncError", "_createdAt": "2025-02-28T12:00:00.001Z"},
        {"_id": "bad", "_type": "syncError", "_createdAt": "yesterday"},
    ]
    query = 'count(*[_type == "syncError" && dateTime(_createdAt) > dateTime($now) - 60*60*24])'
    assert run(query, docs=docs, now="2025-03-01T12:00:00Z") == 1


def test_stock_lines_of_a_reservation(run: Run) -> None:
    query = (
        '*[_id == $id][0]{_id, "lines": items[]{productId, quantity,'
        ' "title": *[_id == ^.productId][0].title}}'
    )
    assert run(query, id="inventory.reservation.s1") == {
        "_id": "inventory.reservation.s1",
        "lines": [
            {"productId": "p1", "quantity": 2, "title": "Mug"},
            {"productId": "p2", "quantity": 1, "title": "Tee"},
        ],
    }
