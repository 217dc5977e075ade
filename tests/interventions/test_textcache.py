"""The texts a process keeps for applying codes: by intervention and version, within a budget."""

from __future__ import annotations

from interventions.textcache import TextCache


def test_a_text_is_found_only_under_its_own_version() -> None:
    cache = TextCache(characters=100)
    cache.put(1, "v1", "eerste tekst")
    assert cache.get(1, "v1") == "eerste tekst"
    assert cache.get(1, "v2") is None
    assert cache.get(2, "v1") is None
    cache.put(1, "v2", "tweede tekst")
    assert cache.get(1, "v1") is None  # only the latest version is kept
    assert cache.get(1, "v2") == "tweede tekst"
    assert len(cache) == 1


def test_the_least_recently_used_texts_go_first_when_the_budget_is_spent() -> None:
    cache = TextCache(characters=30)
    cache.put(1, "v", "a" * 10)
    cache.put(2, "v", "b" * 10)
    cache.put(3, "v", "c" * 10)
    assert cache.get(1, "v") == "a" * 10  # used: now the most recent
    cache.put(4, "v", "d" * 10)
    assert cache.get(2, "v") is None
    assert [cache.get(n, "v") is not None for n in (1, 3, 4)] == [True, True, True]
    cache.put(5, "v", "e" * 31)  # longer than the whole budget: not kept, nothing dropped
    assert cache.get(5, "v") is None
    assert len(cache) == 3
    cache.clear()
    assert len(cache) == 0
