"""Issue #20: multi-document briefs cover a question's aspects across articles, honour the names a question
insists on, keep wire quotations whole, and never show markup; the nugget evaluation scores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from semsearch.brief import BriefOptions, citation_problems, name_forms, summarize
from semsearch.build import build_articles
from semsearch.cli import main
from semsearch.config import Settings
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.nuggets import Nugget, covered, load_questions
from semsearch.index import Index
from semsearch.ingest import ingest
from semsearch.ingest.markup import strip_markup, strip_title
from semsearch.records import Article
from semsearch.retrieval import Retriever, question_names
from semsearch.sentences import split_sentences

# Five outlets' articles on car safety: one long piece on black boxes, one short piece per other device.
SAFETY = {
    "Black boxes ride along in new cars": (
        "Event data recorders, the black boxes of the car, now ride along in most new vehicles sold this year. "
        "The recorders store speed, braking and seat belt use in the seconds before a crash. "
        "Investigators read the black boxes to learn how fast a car was going when it crashed. "
        "Insurers want access to the black box data to settle claims about crashes. "
        "Privacy groups say drivers should own the data their black boxes record. "
        "Regulators plan a rule on what every black box must record in a crash."
    ),
    "Airbag sensors get smarter": (
        "Airbags now come with sensors that weigh the passenger in the front seat before they deploy. "
        "The sensors keep an airbag from firing with full force at a small child or a light adult."
    ),
    "Stability control required": (
        "Electronic stability control, which brakes single wheels to stop a skid, will be required on all new cars. "
        "Studies found the system cuts fatal single-vehicle crashes by about a third."
    ),
    "Teen drivers face graduated licences": (
        "Graduated licensing laws keep new teenage drivers off the road at night during their first months. "
        "States with the laws saw crash deaths among sixteen-year-old drivers fall sharply."
    ),
    "Child seats get a common latch": (
        "Child safety seats now clip into a common set of anchors built into the back seat of every new car. "
        "The anchors were added because most child seats were found to be installed wrongly."
    ),
}
# One long piece that says "safety devices" in every sentence, beside short pieces on one device each: the
# long piece's sentences rank one another central, and must not crowd the devices out of the brief.
CROWDING = {
    "Safety devices spread to every new car": (
        "Carmakers are fitting a new generation of safety devices to this year's models. "
        "The safety devices include sensors that warn drivers when they drift out of their lane. "
        "Industry officials say the safety devices will add several hundred dollars to the price of a car. "
        "Dealers report that buyers now ask about safety devices before they ask about fuel economy. "
        "Some safety devices, such as backup cameras, were once options only on luxury models. "
        "Engineers expect safety devices to become standard equipment within a decade. "
        "Critics warn that drivers may come to rely on safety devices instead of paying attention. "
        "Insurers have begun offering discounts for cars with the newest safety devices."
    ),
    **{title: text for title, text in SAFETY.items() if title != "Black boxes ride along in new cars"},
    "Black boxes ride along": (
        "Event data recorders now ride along in most new vehicles sold this year. "
        "The recorders store speed, braking and seat belt use in the seconds before a crash."
    ),
}
# One human-rights group's reports on two countries: a question naming one must be answered about that one.
REPORTS = {
    "Amnesty report on Russia": (
        "Amnesty International said Russian forces in Chechnya tortured detainees held in filtration camps. "
        "The group urged Moscow to let independent monitors visit every camp in Chechnya. "
        "Amnesty said Russia had not punished a single officer for abuses in the camps."
    ),
    "Amnesty report on Turkey": (
        "Amnesty International said police in Turkey tortured detainees held in custody in the southeast. "
        "The group urged Ankara to let independent monitors visit every police station in the region. "
        "Amnesty said Turkey had not punished a single officer for abuses in custody."
    ),
}


def _articles() -> list[Article]:
    outlets = ["Wire One", "Daily Two", "Herald Three", "Courier Four", "Times Five", "Wire One", "Daily Two"]
    items = list(SAFETY.items()) + list(REPORTS.items())
    return [
        Article.create(title, text, f"multidoc/{n}.txt", outlet=outlets[n], published=f"2000-01-{n + 10}")
        for n, (title, text) in enumerate(items)
    ]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Index:
    home = tmp_path_factory.mktemp("multidoc")
    build_articles(_articles(), Settings(index_dir=home))
    return Index(home, MODEL_NAME)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> Index:
    home = tmp_path_factory.mktemp("crowding")
    articles = [
        Article.create(title, text, f"crowding/{n}.txt", outlet=f"Outlet {n}", published=f"2000-02-{n + 10}")
        for n, (title, text) in enumerate(CROWDING.items())
    ]
    build_articles(articles, Settings(index_dir=home))
    return Index(home, MODEL_NAME)


def _brief(index: Index, question: str, options: BriefOptions):
    retrieval = Retriever(index, get_embedder()).retrieve(question, k=10)
    return summarize(index, retrieval, options)


@pytest.mark.model
def test_a_long_brief_covers_the_question_across_articles(index: Index):
    question = "What devices and procedures have been implemented to improve automobile safety?"
    brief = _brief(index, question, BriefOptions(words=120))
    devices = ("black box", "airbag", "stability", "child")
    told = {d for d in devices for s in brief.sentences if d in s.text.lower()}
    assert told == set(devices), [s.text for s in brief.sentences]
    assert len(brief.sources) >= 4
    assert not citation_problems(brief, lambda a: index.article_text(a) or "")


@pytest.mark.model
@pytest.mark.parametrize(
    "question", ["Which car safety devices are new?", "What safety devices have been introduced to make cars safer?"]
)
def test_one_article_repeating_the_question_does_not_crowd_out_the_others(crowded: Index, question: str):
    brief = _brief(crowded, question, BriefOptions(words=150))
    titles = {s.n: s.title for s in brief.sources}
    quoted = [titles[s.citations[0].n] for s in brief.sentences]
    assert quoted.count("Safety devices spread to every new car") <= len(quoted) // 2, quoted
    devices = {
        "Airbag sensors get smarter",
        "Stability control required",
        "Child seats get a common latch",
        "Black boxes ride along",
    }
    assert devices <= set(quoted), quoted
    assert not citation_problems(brief, lambda a: crowded.article_text(a) or "")


@pytest.mark.model
def test_a_sentence_missing_a_name_the_question_insists_on_loses(index: Index):
    brief = _brief(index, "What did Amnesty International say about Russia?", BriefOptions(words=60))
    assert brief.sentences
    assert all(
        "russia" in s.text.lower() or "chechnya" in s.text.lower() or "moscow" in s.text.lower()
        for s in brief.sentences
    ), [s.text for s in brief.sentences]
    assert all("turkey" not in s.text.lower() for s in brief.sentences)


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What did Amnesty International say about Russia?", [["amnesty", "international"], ["russia"]]),
        ("How did the March earthquake affect Ecuador's oil exports?", [["ecuador"]]),
        ("What devices improve automobile safety?", []),
        ("Port Alder dock strike", [["port", "alder"]]),  # a first word that opens a run
        ("Bitcoin price crash", []),  # one capitalised first word is how any sentence starts
        ("Ad sales boost Time Warner profit", [["time", "warner"]]),
        ("Did We Miss The Port Alder Strike Vote?", []),  # title case: capitals say nothing
        ("Bank of England Raises Rates", []),
        ("What did O'Brien say?", [["brien"]]),
        ("D'Arcy Smith resigns", [["arcy", "smith"]]),
    ],
)
def test_question_names(question: str, names: list[list[str]]):
    assert question_names(question) == names


def test_name_forms_reach_the_adjective():
    assert {"russian", "japanese", "chinese", "brazilian", "kuwaiti"} <= {
        *name_forms("russia"),
        *name_forms("japan"),
        *name_forms("china"),
        *name_forms("brazil"),
        *name_forms("kuwait"),
    }


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Then the pilot ordered, ``Engine fire procedure. Shut down number two.'' Evans said the crew obeyed.",
            ["Then the pilot ordered, ``Engine fire procedure. Shut down number two.''", "Evans said the crew obeyed."],
        ),
        (
            "The plan was dead.'' Evans said so in his report to the board.",
            ["The plan was dead.''", "Evans said so in his report to the board."],
        ),
        (
            "She said, “It is over. We go home.” The crowd cheered in the square.",
            ["She said, “It is over. We go home.”", "The crowd cheered in the square."],
        ),
        (
            "He said ``we fight. We win. We stay. We go. We stop. And so on for ever.",  # never closed: left as split
            ["He said ``we fight.", "We win.", "We stay.", "We go.", "We stop.", "And so on for ever."],
        ),
    ],
)
def test_quotations_stay_whole_and_closing_quotes_end_their_sentence(text: str, sentences: list[str]):
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == sentences


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("&HT; Car makers add black boxes", "Car makers add black boxes"),
        ("Ford &AMP; GM recall cars &QL;", "Ford & GM recall cars"),
        ("STANDARD OIL &lt;SRD> TO FORM UNIT", "STANDARD OIL <SRD> TO FORM UNIT"),
        ("AT&T; R&D &MD; fine", "AT&T; R&D — fine"),
        ("<HEADLINE> Airbags &UR; save lives </HEADLINE>", "Airbags save lives"),
    ],
)
def test_titles_lose_entity_and_sgml_leftovers(raw: str, clean: str):
    assert strip_title(raw) == clean


def test_bodies_lose_markup_in_every_format(tmp_path: Path):
    body = "Airbags &HT; saved lives &AMP; money last year, the agency said in its report.\n Reuter\n&#3;"
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "&HT; Airbags &AMP; lives", "text": body}) + "\n")
    (tmp_path / "b.txt").write_text("&QL; Seat belts\nSeat belts &MD; worn by most drivers &HT; saved lives.\n")
    articles = {a.title: a for a in ingest([tmp_path]).articles}
    assert set(articles) == {"Airbags & lives", "Seat belts"}
    assert articles["Airbags & lives"].text.startswith("Airbags saved lives & money")
    assert "&" not in articles["Seat belts"].text and "\x03" not in articles["Airbags & lives"].text
    assert strip_markup("plain text stays") == "plain text stays"


def test_a_nugget_is_covered_when_one_sentence_holds_every_key_group():
    nugget = Nugget("GenCorp rejected the bid", ((("gencorp",),), (("reject",), ("turn", "down"))))
    assert covered([nugget], ["GenCorp rejects the offer."]) == [True]
    assert covered([nugget], ["GenCorp turned down the offer."]) == [True]
    assert covered([nugget], ["GenCorp studied the offer.", "The board rejected it."]) == [False]


@pytest.mark.model
def test_eval_nuggets_scores_the_brief_beside_the_plain_baseline(tmp_path: Path):
    records = [
        {
            "attrs": {"newid": str(n + 1)},
            "title": title.upper(),
            "date": f"{n + 10}-MAR-1987 10:00:00.00",
            "body": text + "\n Reuter\n&#3;",
        }
        for n, (title, text) in enumerate(SAFETY.items())
    ]
    (tmp_path / "reuters" / "json-data").mkdir(parents=True)
    (tmp_path / "reuters" / "json-data" / "reut2-000.json").write_text(json.dumps(records))
    rows = [
        {
            "id": f"q0{n}",
            "question": q,
            "articles": ["1", "2", "3", "4", "5"],
            "nuggets": [
                {"fact": "Airbag sensors weigh the passenger", "keys": ["airbag|airbags", "sensors"]},
                {"fact": "Stability control cuts fatal crashes", "keys": ["stability", "fatal"]},
                {"fact": "Black boxes record speed", "keys": ["recorders|black", "speed"]},
            ],
        }
        for n, q in ((1, "What improves automobile safety?"), (2, "How are new cars made safer?"))
    ]
    devset = tmp_path / "dev.jsonl"
    devset.write_text("\n".join(json.dumps(r) for r in rows))
    assert [q.split for q in load_questions(devset)] == ["tune", "test"]
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "nuggets",
            str(devset),
            "--reuters",
            str(tmp_path / "reuters"),
            "--split",
            "all",
            "--words",
            "120",
            "--work",
            str(tmp_path / "work"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows_out = {line.split("|")[1].strip(): line for line in result.output.splitlines() if line.startswith("| ")}
    assert {"semsearch brief", "plain selection (cosine, skip > 0.8)", "lead of the newest article"} <= set(rows_out)
    recall = float(rows_out["semsearch brief"].split("|")[2])
    assert 0.0 < recall <= 1.0
    assert "verbatim spans" in result.output
