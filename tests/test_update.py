"""Incremental updates, story grouping and feed URLs on indexes built in the test."""

from __future__ import annotations

import http.server
import shutil
import threading

import numpy as np
import pytest

from semsearch.build import build, update
from semsearch.config import Settings
from semsearch.embedding import MODEL_NAME
from semsearch.index import Index, StoredChunk

from .conftest import CORPUS

STRIKE = ("harbor_strike_ledger.txt", "harbor_strike_tribune.html", "harbor_strike_wire.json")


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    for name in (*STRIKE, "rates.csv", "rail_feed.xml"):
        shutil.copy(CORPUS / name, src / name)
    return src


def titles(settings: Settings) -> set[str]:
    index = Index(settings.index_dir, MODEL_NAME)
    return {row[0] for row in index.db.execute("SELECT title FROM articles")}


@pytest.mark.model
def test_update_adds_changes_and_removes(folder, tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    first = build([folder], settings)
    assert (first.added, first.changed, first.removed, first.unchanged) == (5, 0, 0, 0)

    shutil.copy(CORPUS / "latin1_cafe.txt", folder / "cafe.txt")  # added
    (folder / "rates.csv").unlink()  # removed
    feed = (folder / "rail_feed.xml").read_text()
    (folder / "rail_feed.xml").write_text(feed.replace("8.2 gigawatts", "8.4 gigawatts"))  # changed
    second = update([], settings)
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 3)
    # only the changed feed item and the new file were embedded: far fewer texts than the first build
    assert 0 < second.embedded_texts < first.embedded_texts / 2
    after = titles(settings)
    assert any("terrace tax" in t for t in after) and not any("Kestrel" in t for t in after)

    engine_text = (
        Index(settings.index_dir, MODEL_NAME)
        .db.execute("SELECT text FROM articles WHERE title LIKE 'Heatwave%'")
        .fetchone()[0]
    )
    assert "8.4 gigawatts" in engine_text


def assert_layout_matches_sqlite(index: Index) -> None:
    """The columnar layout says what SQLite says about every article, chunk and sentence, and its brief
    facts are what analysing each sentence's text gives."""
    from semsearch.sentence_traits import PRONOUNS, trait_arrays

    db = index.db
    for article_id, row, story, text in db.execute("SELECT id, row, story_id, text FROM articles"):
        assert index.layout.ids([row]) == [article_id]
        same_story = [r for (r,) in db.execute("SELECT row FROM articles WHERE story_id = ?", (story,))]
        assert len({int(index.layout.article_stories[r]) for r in same_story}) == 1
        chunks = list(
            db.execute(
                "SELECT id, start, end, first_sentence, last_sentence FROM chunks WHERE article_id = ? ORDER BY id",
                (article_id,),
            )
        )
        assert [c[0] for c in chunks] == list(range(*index.layout.article_chunks[row : row + 2]))
        assert {c[0]: index.chunks([c[0]])[c[0]] for c in chunks} == {
            c[0]: StoredChunk(c[0], article_id, *c[1:]) for c in chunks
        }
        sentences = index.article_sentences(article_id)
        ids = [s.id for s in sentences]
        assert ids == list(range(*index.layout.article_sentences[row : row + 2]))
        facts = index.sentence_traits(ids)
        expected = trait_arrays([text[s.start : s.end] for s in sentences])
        terms = iter(np.split(expected.terms, np.cumsum(expected.term_counts)[:-1]))
        figures = iter(np.split(expected.figures, np.cumsum(expected.figure_counts)[:-1]))
        for n, s in enumerate(sentences):
            got = facts[s.id]
            assert got.sentence == s and got.words == expected.words[n]
            assert (got.usable, got.leans) == (bool(expected.flags[n] & 1), bool(expected.flags[n] & 2))
            assert got.pronoun == PRONOUNS[expected.flags[n] >> 2]
            assert got.terms.tolist() == next(terms).tolist()
            assert list(got.figures) == next(figures).tolist()


@pytest.mark.model
def test_a_record_deleted_from_an_export_of_many_is_counted_removed(tmp_path):
    import json

    def story(n: int, figure: int) -> dict:
        text = f"The ferry on route {n} carried {figure} passengers in May."
        return {"title": f"Ferry route {n} report", "text": text}

    export = tmp_path / "news" / "export.json"
    export.parent.mkdir()
    export.write_text(json.dumps([story(1, 900), story(2, 1200), story(3, 450)]))
    settings = Settings(index_dir=tmp_path / "idx")
    build([export.parent], settings)
    # route 1 edited, route 2 deleted (route 3 moves up a place)
    export.write_text(json.dumps([story(1, 950), story(3, 450)]))
    report = update([], settings)
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 1, 1, 1)


@pytest.mark.model
def test_update_keeps_the_sources_of_an_index_it_cannot_reuse(folder, tmp_path):
    import json

    from semsearch.index import current_version

    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    manifest = tmp_path / "idx" / "versions" / current_version(tmp_path / "idx") / "manifest.json"
    old = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**old, "format_version": old["format_version"] - 1}))  # as an older release wrote
    report = update([CORPUS / "latin1_cafe.txt"], settings)
    assert report.articles == 6  # the recorded folder's five articles are rebuilt, not dropped
    assert set(Index(settings.index_dir, MODEL_NAME).manifest.sources) == {
        str(folder.resolve()),
        str((CORPUS / "latin1_cafe.txt").resolve()),
    }


@pytest.mark.model
def test_the_layout_agrees_with_sqlite_after_a_build_and_an_update(folder, tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    assert_layout_matches_sqlite(Index(settings.index_dir, MODEL_NAME))
    shutil.copy(CORPUS / "latin1_cafe.txt", folder / "cafe.txt")
    (folder / "rates.csv").unlink()
    report = update([], settings)  # reused articles move to new rows and ids; their layout must move too
    assert (report.added, report.removed, report.unchanged) == (1, 1, 4)
    assert_layout_matches_sqlite(Index(settings.index_dir, MODEL_NAME))


@pytest.mark.model
def test_unchanged_rebuild_embeds_nothing_and_reuses_everything(folder, tmp_path, monkeypatch):
    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    calls = []
    from semsearch.embedding import Embedder

    original = Embedder.encode
    monkeypatch.setattr(
        Embedder, "encode", lambda self, texts, **kw: calls.append(len(texts)) or original(self, texts, **kw)
    )
    # a setting outside how vectors are made: a new version is published, from the old one's parts
    again = build([folder], settings.model_copy(update={"story_window_days": 4}))
    assert again.published and again.embedded_texts == 0 and calls == [] and again.unchanged == 5


@pytest.mark.model
def test_a_corrected_outlet_counts_as_a_change_and_is_stored(folder, tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    wire = folder / "harbor_strike_wire.json"
    wire.write_text(wire.read_text().replace("Coastline Daily", "Coastline Evening"))
    again = update([], settings)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 1, 0, 4)
    assert again.embedded_texts == 0  # same title and text: the vectors are reused
    outlet = (
        Index(settings.index_dir, MODEL_NAME)
        .db.execute("SELECT outlet FROM articles WHERE title LIKE 'Crane row%'")
        .fetchone()[0]
    )
    assert outlet == "Coastline Evening"


@pytest.mark.model
def test_update_can_add_a_new_source(folder, tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    report = update([CORPUS / "latin1_cafe.txt"], settings)
    assert report.added == 1 and report.unchanged == 5
    sources = Index(settings.index_dir, MODEL_NAME).manifest.sources
    assert str(folder.resolve()) in sources and str((CORPUS / "latin1_cafe.txt").resolve()) in sources


@pytest.mark.model
def test_one_story_from_three_outlets_is_grouped(folder, tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([folder], settings)
    index = Index(settings.index_dir, MODEL_NAME)
    rows = list(index.db.execute("SELECT title, outlet, story_id FROM articles"))
    strike = {r[2] for r in rows if "Calder" in r[0]}
    assert len([r for r in rows if "Calder" in r[0]]) == 3 and len(strike) == 1
    others = {r[2] for r in rows if "Calder" not in r[0]}
    assert not strike & others and len(others) == 2
    assert index.manifest.counts.stories == 3
    calder = [a for (a,) in index.db.execute("SELECT id FROM articles WHERE title LIKE '%Calder%'")]
    stories = index.stories_of(calder[:1])
    assert list(stories) == list(strike) and sorted(m.id for m in stories[strike.pop()]) == sorted(calder)


class FeedHandler(http.server.BaseHTTPRequestHandler):
    """Serves the fixture feed at /feed.xml and nothing else."""

    def do_GET(self) -> None:
        if self.path != "/feed.xml":
            self.send_error(404)
            return
        body = (CORPUS / "rail_feed.xml").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.model
def test_feed_url_source_on_loopback(tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        settings = Settings(index_dir=tmp_path / "idx", feed_timeout=5, feed_allow_private=True)
        report = build([f"{base}/feed.xml", f"{base}/missing.xml"], settings)
    finally:
        httpd.shutdown()
    assert report.articles == 1
    assert any("missing.xml" in s.source and "could not be fetched" in s.reason for s in report.skipped)
    index = Index(settings.index_dir, MODEL_NAME)
    outlet, url = index.db.execute("SELECT outlet, url FROM articles").fetchone()
    assert outlet == "Valley Wire" and url.endswith("/heatwave-power")


@pytest.mark.model
@pytest.mark.parametrize(("kind", "faiss_type"), [("hnsw", "IndexHNSWFlat"), ("ivf", "IndexIVFFlat")])
def test_an_approximate_index_above_the_threshold_finds_what_exact_search_finds(tmp_path, kind, faiss_type):
    from semsearch.contract import SearchRequest
    from semsearch.service import SearchService

    exact = Settings(index_dir=tmp_path / "exact")
    approx = Settings(index_dir=tmp_path / kind, ann_threshold=1, ann_index=kind)
    build([CORPUS], exact)
    build([CORPUS], approx)
    assert Index(approx.index_dir, MODEL_NAME).manifest.ann == faiss_type
    outlet = SearchService(exact).index.outlets()[0][0]
    for question in ("Why did dockworkers strike?", "flood residents evacuated", "cup final goals"):
        for outlets in ([], [outlet]):
            asked = SearchRequest(q=question, mode="dense", summary=False, outlet=outlets)
            a = SearchService(exact).search(asked).results
            b = SearchService(approx).search(asked).results
            assert [h.article_id for h in a] == [h.article_id for h in b]


@pytest.mark.model
def test_an_edited_article_is_found_by_every_id_it_had(folder, tmp_path):
    from fastapi.testclient import TestClient

    from semsearch.server.app import create_app
    from semsearch.service import SearchService

    settings = Settings(index_dir=tmp_path / "idx")
    feed = folder / "rail_feed.xml"

    def heatwave_id() -> str:
        index = Index(settings.index_dir, MODEL_NAME)
        return index.db.execute("SELECT id FROM articles WHERE title LIKE 'Heatwave%'").fetchone()[0]

    build([folder], settings)
    first = heatwave_id()
    feed.write_text(feed.read_text().replace("8.2 gigawatts", "8.4 gigawatts"))
    update([], settings)
    second = heatwave_id()
    feed.write_text(feed.read_text().replace("8.4 gigawatts", "8.6 gigawatts"))
    update([], settings)
    third = heatwave_id()
    assert len({first, second, third}) == 3

    first_sentence = Index(settings.index_dir, MODEL_NAME).article_sentences(third)[0]
    hl = {"hl": f"{first_sentence.start}-{first_sentence.end}"}
    with TestClient(create_app(settings, SearchService(settings)), base_url="http://127.0.0.1") as app:
        assert 'class="s marked"' in app.get(f"/articles/{third}", params=hl).text
        for old in (first, second):
            body = app.get(f"/api/articles/{old}").json()
            assert (body["article_id"], body["previous_id"]) == (third, old)
            assert "8.6 gigawatts" in body["text"]
            page = app.get(f"/articles/{old}", params=hl)
            assert page.status_code == 200 and "has been edited since the link" in page.text
            assert f'<link rel="canonical" href="/articles/{third}">' in page.text
            assert 'class="s marked"' not in page.text  # the old offsets are not laid over the new text
        story = app.get(f"/api/stories/{third}").json()  # named after its only article
        assert story["story_id"] == third and app.get(f"/api/stories/{first}").json() == story
        assert app.get(f"/stories/{first}").status_code == 200
        current = app.get(f"/api/articles/{third}").json()
        assert current["previous_id"] is None
        assert "has been edited" not in app.get(f"/articles/{third}").text

    feed.unlink()  # deleted, not edited: no id leads anywhere
    update([], settings)
    with TestClient(create_app(settings, SearchService(settings)), base_url="http://127.0.0.1") as app:
        assert [app.get(f"/api/articles/{i}").status_code for i in (first, second, third)] == [404] * 3


FERRY_ITEMS = {
    "fares": ("Ferry fares to rise in August", "Fares on the Dunmore crossing will rise by six percent in August."),
    "crane": ("Harbour crane collapses in storm", "A container crane at Dunmore harbour collapsed in Tuesday's storm."),
    "pier": ("New pier opens at Dunmore", "The town opened its new passenger pier on Friday after two years of work."),
    "letters-1": ("Letters to the editor", "A reader asks why the harbour car park closes at six every evening."),
    "letters-2": ("Letters to the editor", "Two readers thank the lifeboat crew for a rescue off the point."),
    # items without a link: told apart by their text alone
    "nolink-1": ("Traffic update", "Roadworks close the ring road at night for the rest of this week."),
    "nolink-2": ("Traffic update", "The harbour bridge reopens to lorries on Monday after repairs."),
    "nolink-1b": ("Traffic update: ring road", "Roadworks close the ring road at night for the rest of this week."),
}


class RotatingFeed(http.server.BaseHTTPRequestHandler):
    """Serves /feed.xml listing the items named in `showing` (none: a 503, as a feed that is down)."""

    showing: tuple[str, ...] = ()

    def do_GET(self) -> None:
        if not self.showing:
            self.send_error(503)
            return
        items = "".join(
            f"<item><title>{FERRY_ITEMS[k][0]}</title>"
            + ("" if k.startswith("nolink") else f"<link>https://wire.example/{k}</link>")
            + f"<description>{FERRY_ITEMS[k][1]} The council confirmed it on Monday.</description></item>"
            for k in self.showing
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Dunmore Wire</title>{items}</channel></rss>'
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.mark.model
def test_a_feed_archive_keeps_items_that_drop_off_and_survives_a_feed_that_is_down(folder, tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RotatingFeed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings = Settings(index_dir=tmp_path / "idx", feed_timeout=5, feed_allow_private=True)
    try:
        RotatingFeed.showing = ("fares", "crane", "pier")
        build([f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml", folder], settings)
        RotatingFeed.showing = ("pier", "letters-1")  # the two older items scrolled off the feed
        report = update([], settings)
        assert (report.added, report.removed) == (1, 0)
        RotatingFeed.showing = ("letters-2",)  # a new letter under the same title is another item
        report = update([], settings)
        assert (report.added, report.removed) == (1, 0)
        RotatingFeed.showing = ()  # the feed is down for a run
        report = update([], settings)
        assert (report.added, report.removed) == (0, 0)
        assert any("feed.xml" in s.source for s in report.skipped)
    finally:
        httpd.shutdown()
    assert {title for key, (title, _) in FERRY_ITEMS.items() if not key.startswith("nolink")} <= titles(settings)
    index = Index(settings.index_dir, MODEL_NAME)
    assert index.db.execute("SELECT count(*) FROM articles WHERE title = 'Letters to the editor'").fetchone() == (2,)
    # a file half written (unreadable) keeps its articles; a file deleted from a folder that was read is removed
    (folder / "harbor_strike_wire.json").write_text('{"title": "Port strike", "text": "cut sh')
    report = update([], settings)
    assert report.removed == 0 and any("harbor_strike_wire.json" in s.source for s in report.skipped)
    (folder / "rates.csv").unlink()
    assert update([], settings).removed == 1


@pytest.mark.model
def test_a_feed_without_links_keeps_each_item_once(tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RotatingFeed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings = Settings(index_dir=tmp_path / "idx", feed_timeout=5, feed_allow_private=True)
    try:
        RotatingFeed.showing = ("nolink-1",)
        build([f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml"], settings)
        RotatingFeed.showing = ("nolink-2",)  # another update under the same title: both are kept
        assert (update([], settings).added, Index(settings.index_dir, MODEL_NAME).manifest.counts.articles) == (1, 2)
        RotatingFeed.showing = ("nolink-1b",)  # the first one, its title edited: read again, not a third item
        report = update([], settings)
    finally:
        httpd.shutdown()
    assert (report.added, report.changed, report.removed) == (0, 1, 0)
    assert titles(settings) == {"Traffic update", "Traffic update: ring road"}
