"""The brief: verbatim citations, budget, redundancy, abstention, readability and the antecedent rule."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from semsearch.brief import BriefOptions, anchor, citation_problems, summarize_articles
from semsearch.build import build_articles
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.index import Index
from semsearch.records import Article
from semsearch.retrieval import as_written
from semsearch.sentence_traits import leading_pronoun, needs_antecedent, usable
from semsearch.service import SearchService
from semsearch.text import content_words

WORDS = [
    "port",
    "strike",
    "union",
    "cranes",
    "automation",
    "dockworkers",
    "ships",
    "flood",
    "river",
    "evacuated",
    "rain",
    "bank",
    "rate",
    "inflation",
    "borrowing",
    "cup",
    "final",
    "goal",
    "heatwave",
    "electricity",
    "miners",
    "rescue",
    "train",
    "rail",
    "delays",
    "minister",
    "said",
    "jobs",
    "software",
    "wages",
    "talks",
]


def _check(service: SearchService, brief, words: int, sources: int | None) -> None:
    """Every contract a brief keeps, whatever the question."""
    assert citation_problems(brief, lambda a: service.article(a).text) == []
    assert sum(len(s.text.split()) for s in brief.sentences) <= words
    if sources is not None:
        assert len({c.article_id for s in brief.sentences for c in s.citations + s.corroborations}) <= sources
    assert bool(brief.sentences) != bool(brief.abstained)
    _check_antecedents(service, brief)


def _check_antecedents(service: SearchService, brief) -> None:
    """A sentence that leans on its predecessor comes right after it, or after the sentence its pronoun run
    goes back to (and any of the run between), from the same article."""
    previous = None
    for sentence in brief.sentences:
        cite = sentence.citations[0]
        if needs_antecedent(sentence.text):
            article = service.article(cite.article_id)
            spans = article.sentences
            position = spans.index((cite.start, cite.end))
            assert position > 0 and previous is not None and previous.article_id == cite.article_id
            texts = [article.text[a:b] for a, b in spans]
            first = anchor([leading_pronoun(t) for t in texts], [needs_antecedent(t) for t in texts], position)
            allowed = {spans[p] for p in range(position - 1 if first is None else first, position)}
            assert (previous.start, previous.end) in allowed
        previous = cite


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    question=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
    words=st.integers(20, 400),
    sources=st.one_of(st.none(), st.integers(1, 6)),
)
def test_every_brief_keeps_its_contract(service: SearchService, question: str, words: int, sources: int | None):
    brief = service.search(SearchRequest(q=question, words=words, sources=sources)).summary
    _check(service, brief, words, sources)


def test_word_budget_is_used_but_never_exceeded(service: SearchService):
    for words in (20, 60, 120, 250):
        brief = service.search(SearchRequest(q="Port Calder strike cranes union automation", words=words)).summary
        used = sum(len(s.text.split()) for s in brief.sentences)
        assert 0 < used <= words


def test_abstains_on_an_unrelated_question(service: SearchService):
    brief = service.search(SearchRequest(q="best recipe for sourdough bread starter")).summary
    assert brief.sentences == [] and brief.sources == []
    assert "No passage" in brief.abstained or "Nothing" in brief.abstained


def test_abstains_naming_what_the_archive_never_mentions(service: SearchService):
    """A strike at Port Calder is in the archive; one at Port Calder in Norway is not, and its nearest sentences
    (the Port Calder strike) would answer another question."""
    asked = service.search(SearchRequest(q="Why did dockworkers strike at Port Calder?")).summary
    assert asked.sentences and asked.abstained is None
    elsewhere = service.search(SearchRequest(q="Why did dockworkers strike at Port Calder in NORWAY?"))
    assert elsewhere.summary.sentences == []
    assert elsewhere.summary.abstained == "Nothing in the archive mentions “NORWAY”."
    assert elsewhere.results  # the closest articles are still listed


def test_a_name_counts_as_mentioned_in_any_of_its_forms(service: SearchService):
    """ "Calder's" and "Calderans" are forms of Calder; only a name with no form in the archive abstains."""
    for question in ("What did Calderans say about the strike?", "Why did the Calder's dockworkers strike?"):
        assert service.search(SearchRequest(q=question)).summary.abstained is None, question


def test_an_outlet_or_dateline_place_is_mentioned_though_no_text_holds_it(service: SearchService):
    """Outlets and places are the archive's own names: asking what one reported never abstains for its name."""
    for outlet, _ in service.outlets():
        brief = service.search(SearchRequest(q=f"What did the {outlet} report about the strike?")).summary
        assert not (brief.abstained or "").startswith("Nothing in the archive mentions"), outlet


def test_a_name_is_given_as_the_question_spells_it():
    assert as_written("What did NASA's James  Webb telescope see?", ["james", "webb"]) == "James  Webb"
    assert as_written("What did NASA's telescope see?", ["nasa"]) == "NASA"
    assert as_written("What did O’Brien say?", ["brien"]) == "O’Brien"  # "O" alone is no name of its own


@pytest.mark.parametrize(
    ("text", "dependent"),
    [
        ("He added that talks would resume on Monday.", True),
        ("It said the figures were provisional and could be revised.", True),
        ("This is the first cut since the tightening cycle began.", True),
        ("But the union rejected the offer on Friday night.", True),
        ('"We will appeal the ruling in the higher court," she said.', True),
        ("It is expected to reopen in May after the repairs.", True),
        ("Both sides said the talks had been constructive.", True),
        # Times told from the sentence before.
        ("Seconds later the car hit the barrier at full speed.", True),
        ("Two days later, the company withdrew its offer.", True),
        ("Later that day the minister resigned from the cabinet.", True),
        ("Soon after, the plant was closed for good.", True),
        ("By then the fire had spread to three floors.", True),
        # Openers that point at nothing before them.
        ("This year, the top twelve films grossed around $91m.", False),
        ("These days, buyers pay almost £11,500 for a new car.", False),
        ("Both Foxx and Swank are now among the favourites to win.", False),
        ("So far a total of 13 athletes have been sanctioned.", False),
        ("It is thought that about 10,000 phones are stolen every month.", False),
        ("It is not clear what the virus does once it has infected a computer.", False),
        ("The central bank cut its policy rate to 4 percent on Thursday.", False),
        ("Harbour workers walked out over plans to automate the cranes.", False),
        ("Later this year the company will open a second plant.", False),
        ("Shortly after the vote, the minister resigned from office.", False),
        ("Seconds matter in a crash, engineers say of the new brakes.", False),
    ],
)
def test_antecedent_openers(text: str, dependent: bool):
    assert needs_antecedent(text) is dependent


def test_a_pronoun_run_goes_back_to_the_sentence_before_it():
    texts = [
        "Mayor Ana Ruiz opened the bridge on Monday.",
        "She said the summer had been dry.",
        "Her deputy was away.",
        "She said it cost 2 million dollars.",
        "But she said the price was fair.",
    ]
    pronouns = [leading_pronoun(t) for t in texts]
    leans = [needs_antecedent(t) for t in texts]
    assert pronouns == ["", "she", "she", "she", ""]
    assert anchor(pronouns, leans, 2) == 0 and anchor(pronouns, leans, 3) == 0  # the run 1-3 means Ana Ruiz
    assert anchor(pronouns, leans, 1) is None  # its predecessor is the anchor: the ordinary rule covers it
    assert anchor(pronouns, leans, 4) is None  # "But" leans on what was said, not only on whom
    assert anchor(["", "he", "she", "she"], [False, True, True, True], 3) is None  # the run is "she" from 2 on
    assert anchor(["", "he", "he"], [True, True, True], 2) is None  # the sentence before the run leans itself


def test_content_words_keep_what_a_sentence_is_about():
    assert content_words("He said it's the first time they have won the cup in 30 years.") == {
        "said",
        "first",
        "time",
        "won",
        "cup",
        "30",
        "years",
    }


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("The central bank cut its policy rate to 4 percent on Thursday.", True),
        ("Photo: Workers gather at the main gate of the harbour on Monday.", False),
        ("By Jane Smith, Senior Economics Correspondent for the Daily Ledger.", False),
        ("What happens next for the thousands of families still displaced?", False),
        ("LONDON (Reuters) -", False),
        ("Copyright 2025 The Ledger. All rights reserved.", False),
        ("Click here to sign up for our daily newsletter today.", False),
        ("Read more about the flood response in our live coverage", False),
        # Openers that look like page furniture but start ordinary news sentences.
        ("By contrast, the rival network reported no outages at all last week.", True),
        ("By 2008, nearly every phone sold in Japan will have a camera.", True),
        ("Image sensors inside camera phones are improving every year.", True),
        ("Share prices rose sharply in early trading on Monday morning.", True),
        ("£5m was raised for the new hospital wing last year.", True),
        ("Credit: Jane Smith for the Daily Ledger and partner agencies.", False),
    ],
)
def test_readability_filter(text: str, ok: bool):
    assert usable(text) is ok


@pytest.fixture(scope="module")
def twin_index(tmp_path_factory) -> Index:
    """Three outlets reporting one bridge closure: a wire copy, a rewrite, and a story with pronoun sentences."""
    home = tmp_path_factory.mktemp("twins")
    fact = "The Elm Street bridge will stay closed for six weeks after inspectors found cracks in two steel beams."
    articles = [
        Article.create(
            "Elm Street bridge shut for six weeks",
            f"{fact} Traffic is being diverted through the market square and along the ring road.",
            "a.txt",
            outlet="Valley Wire",
            published="2025-03-02",
        ),
        Article.create(
            "Bridge closure: six weeks of detours",
            f"Commuters face detours all spring. {fact}",
            "b.txt",
            outlet="Riverside Herald",
            published="2025-03-03",
        ),
        Article.create(
            "Cracked beams close Elm Street crossing",
            "Inspectors discovered cracks in two steel "
            "beams, so the Elm Street bridge is shut for six weeks. Mayor Ana Ruiz visited the "
            "bridge on Monday afternoon with the city engineer. She said the repairs would cost "
            "about 2 million dollars and be paid from the roads budget.",
            "c.txt",
            outlet="Northgate Tribune",
            published="2025-03-03",
        ),
    ]
    build_articles(articles, Settings(index_dir=home))
    return Index(home, MODEL_NAME)


def _bridge_brief(index: Index, question: str, words: int = 120):
    ids = index.article_ids()
    vector = get_embedder().encode_query(question)
    return summarize_articles(index, ids, vector, question, BriefOptions(words=words))


@pytest.mark.model
def test_two_outlets_one_fact_give_one_sentence_with_two_citations(twin_index: Index):
    brief = _bridge_brief(twin_index, "How long will the Elm Street bridge be closed?")
    closure = [s for s in brief.sentences if "six weeks" in s.text]
    assert len(closure) == 1, [s.text for s in brief.sentences]
    sentence = closure[0]
    assert len({c.article_id for c in sentence.citations}) == 2  # the same words in two outlets
    assert {c.article_id for c in sentence.corroborations}.isdisjoint({c.article_id for c in sentence.citations})
    assert sentence.corroborations  # the third outlet's own wording of the fact
    assert citation_problems(brief, twin_index.article_text) == []


@pytest.mark.model
def test_a_sentence_leaning_on_its_predecessor_comes_with_it(twin_index: Index):
    brief = _bridge_brief(twin_index, "How much will the Elm Street bridge repairs cost and who pays?", words=80)
    texts = [s.text for s in brief.sentences]
    cost = next(i for i, t in enumerate(texts) if t.startswith("She said the repairs"))
    assert cost > 0 and texts[cost - 1].startswith("Mayor Ana Ruiz visited")
    assert citation_problems(brief, twin_index.article_text) == []


@pytest.mark.model
def test_a_sentence_may_follow_the_sentence_its_pronoun_run_goes_back_to(tmp_path_factory):
    """Without the run rule the cost sentence could come only with both sentences before it (over budget)."""
    home = tmp_path_factory.mktemp("run")
    opened = "Mayor Ana Ruiz opened the new Elm Street bridge on Monday."
    cost = "She said the bridge cost 2 million dollars and would carry 9,000 cars a day."
    build_articles(
        [
            Article.create(
                "Elm Street bridge opens",
                f"{opened} She said the weather had been kind to the "
                f"builders over a long and mostly dry summer this year. {cost}",
                "r.txt",
                outlet="Valley Wire",
            )
        ],
        Settings(index_dir=home),
    )
    index = Index(home, MODEL_NAME)
    question = "How much did the Elm Street bridge cost and how many cars will it carry?"
    brief = summarize_articles(
        index,
        index.article_ids(),
        get_embedder().encode_query(question),
        question,
        BriefOptions(words=28, min_similarity=-1.0),
    )
    assert [s.text for s in brief.sentences] == [opened, cost]
    assert citation_problems(brief, index.article_text) == []


@pytest.mark.model
def test_sources_list_title_outlet_and_date(twin_index: Index):
    brief = _bridge_brief(twin_index, "How long will the Elm Street bridge be closed?")
    assert {s.outlet for s in brief.sources} >= {"Valley Wire", "Riverside Herald"}
    assert all(s.title and s.published for s in brief.sources)
    assert sorted(s.n for s in brief.sources) == list(range(1, len(brief.sources) + 1))


@pytest.mark.model
def test_briefs_of_two_indexes_never_mix_their_sentences(twin_index: Index, tmp_path_factory):
    """Derived sentence data is cached per index version: the same sentence ids in another index are other text."""
    home = tmp_path_factory.mktemp("other")
    build_articles(
        [
            Article.create(
                "Ferry service suspended in storm",
                "The island ferry will not sail until the "
                "storm passes on Thursday evening. Harbour staff tied the boats down overnight "
                "and closed the terminal building.",
                "f.txt",
                outlet="Coast News",
            )
        ],
        Settings(index_dir=home),
    )
    other = Index(home, MODEL_NAME)
    questions = (
        (twin_index, "How long will the Elm Street bridge be closed?"),
        (other, "When will the island ferry sail again?"),
        (twin_index, "Who pays for the repairs?"),
    )
    for index, question in questions:
        brief = summarize_articles(
            index,
            index.article_ids(),
            get_embedder().encode_query(question),
            question,
            BriefOptions(words=60, min_similarity=-1.0),
        )
        assert brief.sentences and citation_problems(brief, index.article_text) == []
