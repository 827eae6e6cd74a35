"""dotlab.catalogue: the course's catalogue is its own, balanced, and every query can be answered."""

from collections import Counter

import pytest

from dotlab.catalogue import load_catalogue, load_queries


def test_the_catalogue_is_ours_and_balanced():
    cat = load_catalogue()
    assert len(cat) >= 200
    assert len(set(cat.texts)) == len(cat), "duplicate items"
    assert all(3 <= len(t.split()) <= 20 for t in cat.texts), "items are short sentences"
    counts = Counter(cat.categories)
    assert len(counts) >= 6 and len(set(counts.values())) == 1, counts
    assert {"fruit", "hardware"} <= set(counts)  # the chapter's toy example uses both


def test_every_query_names_a_catalogue_category():
    assert set(load_queries().categories) <= set(load_catalogue().categories)


def test_a_csv_with_other_columns_is_refused(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text("id,text\n0,an item\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"columns \('id', 'category', 'text'\)"):
        load_catalogue.__wrapped__(path)
