"""The explanation explorer end to end in headless Chromium (Playwright): search, click, compare,
filter, download.

Needs Debian's ``chromium`` and the Python package ``playwright`` (the ``dev`` extra); Playwright's
own browser download is never used. Skipped when either is missing, except in CI (``CI`` set),
where that fails.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fusion.explanations import Explanation, write_explorer

sys.path.insert(0, str(Path(__file__).parent))
from _explorer import HOSTILE, tiny_explanations

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
K = 4
TERMS = ["go_term", "pathway"]


def _missing() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install -e '.[dev]')")
    if not Path(CHROMIUM).is_file():
        missing.append("Debian's chromium (apt-get install -y chromium)")
    return missing


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        reason = f"the browser test needs {' and '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run it (.ci/run installs chromium)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def explanations() -> list[Explanation]:
    return tiny_explanations()


@pytest.fixture(scope="module")
def page_file(explanations: list[Explanation], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explorer")
    return write_explorer(explanations, folder / "explorer.html", k=K, title="tiny explorer")


@pytest.fixture
def page(browser: Any, page_file: Path) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 950})
    page = context.new_page()
    page.set_default_timeout(5_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request", lambda r: errors.append(f"request {r.url}") if "file:" not in r.url else None
    )
    page.goto(page_file.as_uri())
    yield page
    assert errors == [], "the page logged errors or fetched something"
    assert page.evaluate("window.__pwned === undefined"), "a hostile string ran code"
    context.close()


def _search(page: Any, box: str, text: str, pick: str) -> list[str]:
    """Type ``text`` in a search box, return the suggestions, click the one for ``pick``."""
    page.fill(box, "")
    page.type(box, text)
    suggestions = page.locator(f"{box} + ul li.suggestion")
    shown = [suggestions.nth(i).get_attribute("data-id") for i in range(suggestions.count())]
    suggestions.filter(has_text=pick).first.click() if pick != HOSTILE else suggestions.last.click()
    return shown


def _column_terms(page: Any, side: str) -> list[str]:
    return page.locator(f"#col-{side} table tbody tr").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-id'))"
    )


def _download(page: Any) -> pd.DataFrame:
    with page.expect_download() as info:
        page.click("#download")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), keep_default_na=False)


def test_search_shows_the_patients_subgraph_and_top_term(page: Any, tmp_path: Path) -> None:
    assert "patient p1" in page.locator("#col-a h2").inner_text()  # the first patient to start
    assert _search(page, "#search-a", "p1", "p10") == ["p1", "p10"]
    assert "patient p10" in page.locator("#col-a h2").inner_text()
    shown = _search(page, "#search-a", "3", "p3")
    assert shown == ["p3"]
    assert "patient p3 · predicted CTRL" in page.locator("#col-a h2").inner_text()
    # p3's top term is GO:4, whose name is hostile markup: drawn as text, never as markup
    top = page.locator('#col-a .graph .node[data-id="GO:4"]')
    assert top.is_visible()
    assert top.locator("text").text_content() == HOSTILE[:29] + "…"
    assert _column_terms(page, "a")[0] == "GO:4"
    assert page.locator("#col-a table tbody tr").first.locator("a.term").inner_text() == HOSTILE
    assert page.locator("img").count() == 0
    _search(page, "#search-a", "script", HOSTILE)  # the hostile patient id is searchable
    assert HOSTILE in page.locator("#col-a h2").inner_text()
    page.screenshot(path=tmp_path / "search.png", full_page=True)


def test_clicking_a_term_lists_its_genes_and_patients(page: Any, explanations: list) -> None:
    page.click('#col-a .graph .node[data-id="GO:3"] circle')
    panel = page.locator("#term-panel")
    assert panel.locator("h2").inner_text() == "leaf process"
    assert panel.locator("#term-genes .gene").all_inner_texts() == ["G1", "G2", "G3"]
    assert panel.locator("#term-genes .gene.here").all_inner_texts() == ["G1"]  # on the graph
    rows = panel.locator("#term-patients tbody tr")
    ranked = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
    expected = sorted(
        (int(e.top(K, TERMS).set_index("id").at["GO:3", "rank"]), i, e.patient)
        for i, e in enumerate(explanations)
        if "GO:3" in e.top(K, TERMS)["id"].tolist()
    )
    assert ranked == [p for _, _, p in expected] == ["p1", "p2", "p10"]
    rows.nth(1).locator("button").click()  # a patient in the list opens its explanation
    assert "patient p2" in page.locator("#col-a h2").inner_text()
    assert page.locator("#term-panel h2").inner_text() == "leaf process"


def test_compare_two_patients_side_by_side(page: Any, explanations: list, tmp_path: Path) -> None:
    page.click("#mode button[data-mode=patients]")
    _search(page, "#search-b", "p3", "p3")
    assert "patient p1" in page.locator("#col-a h2").inner_text()
    assert "patient p3" in page.locator("#col-b h2").inner_text()
    assert _column_terms(page, "a") == explanations[0].top(K, TERMS)["id"].tolist()
    assert _column_terms(page, "b") == explanations[2].top(K, TERMS)["id"].tolist()
    expected = explanations[0].compare(explanations[2], K, TERMS)
    table = _download(page)
    assert table.columns.tolist() == [
        "id", "name", "type", "score_p1", "score_p3", "difference", "status",
    ]  # fmt: skip
    assert table["id"].tolist() == expected["id"].tolist()
    assert table["status"].tolist() == expected["status"].tolist()
    assert set(expected["status"]) == {"kept", "lost", "gained"}
    assert table["difference"].to_numpy() == pytest.approx(expected["difference"], abs=1e-3)
    page.screenshot(path=tmp_path / "compare.png", full_page=True)


def test_compare_two_predicted_classes(page: Any, explanations: list) -> None:
    page.click("#mode button[data-mode=classes]")
    page.select_option("#class-a", index=0)
    page.select_option("#class-b", index=1)
    assert page.locator("#col-a h2").inner_text() == "class AD (n=2)"
    assert page.locator("#col-b h2").inner_text() == "class CTRL (n=3)"
    by_class = Explanation.aggregate(explanations, by=[e.prediction for e in explanations])
    assert _column_terms(page, "b") == by_class["CTRL"].top(K, TERMS)["id"].tolist()
    assert page.locator("#compare-table tbody tr").count() == len(
        by_class["AD"].compare(by_class["CTRL"], K, TERMS)
    )


def test_filters_and_the_downloaded_table(page: Any, explanations: list, tmp_path: Path) -> None:
    page.uncheck('#type-filter input[data-type="pathway"]')
    terms = _column_terms(page, "a")
    assert terms == explanations[0].top(K, TERMS).query("type == 'go_term'")["id"].tolist()
    assert page.locator('#col-a .graph .node[data-id^="reactome:"]').count() == 0
    assert page.locator('#col-a .graph .node[data-id="NCBIGene:1"]').count() == 1  # inputs stay
    table = _download(page)
    assert table.columns.tolist() == ["rank", "id", "name", "type", "namespace", "score"]
    assert table["id"].tolist() == terms == ["GO:3", "GO:2"]
    assert table["name"].tolist() == ["leaf process", "middle process"]
    assert table["score"].tolist() == [0.9, 0.5]
    page.check('#type-filter input[data-type="pathway"]')
    page.select_option("#namespace-filter", "molecular_function")
    _search(page, "#search-a", "p3", "p3")
    assert _column_terms(page, "a") == ["GO:4"]
    table = _download(page)
    assert table["name"].tolist() == [HOSTILE]  # quoted, never cut at its commas or quotes
    page.select_option("#namespace-filter", "")
    page.click('#col-a .graph .node[data-id="GO:4"] circle')
    page.screenshot(path=tmp_path / "explorer.png", full_page=True)
    page.screenshot(path="/tmp/explorer.png", full_page=True)
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
