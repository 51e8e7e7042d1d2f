"""Boilerplate detection on plain-text page scrapes, with pages written for these tests."""

from __future__ import annotations

import json
import re

import pytest

from semsearch.ingest.boilerplate import Kind, article_lines, card_runs, classify, settle
from semsearch.ingest.cleaning import Cleaner

BODY = [
    "The council of Marrowby voted on Tuesday to turn the disused tram depot into a covered market for local growers.",
    "Councillor Petra Lind said the building had stood empty for eleven years and cost the town money every winter.",
    "Work starts in March.",
    "Traders will pay a reduced rent for the first two years, and the market will open on three days a week.",
    "Residents who live near the depot asked for limits on delivery hours, which the council agreed to consider.",
]
MENU = ["Home", "News", "Sport", "Weather", "Local Politics", "Sign in", "Search"]
FOOTER = ["Share", "Tags", "Marrowby", "Markets", "Contact us", "www.marrowby-gazette.example/about"]
STORY_LIST = [
    "Most read",
    "Ferry Timetable Changes For Summer Season",
    "Gazette Writer",
    "Two Schools Merge After Long Consultation",
    "Gazette Writer",
    "New Cycle Lane Opens On Harbour Road",
]


def kept(lines: list[str]) -> list[str]:
    cleaner = Cleaner()
    text = cleaner.clean("Tram depot to become a market", "\n".join(lines), "page.txt")[0].text
    return text.split("\n\n")


def test_the_article_is_the_run_of_prose_between_menus_and_story_lists():
    assert kept([*MENU, "By Ada Croft", "12 May", *BODY, *FOOTER, *STORY_LIST]) == BODY


def test_a_short_line_between_prose_lines_stays_and_one_beside_furniture_goes():
    keep = article_lines(["Local News", *BODY, "Share"], [False] * 6 + [True])
    assert keep == [False, True, True, True, True, True, False]
    assert classify("Work starts in March.", marked=False) is Kind.SHORT


def test_a_long_run_of_labels_between_prose_lines_is_cut():
    lines = [BODY[0], "Politics", "Markets", "Transport", "Planning", BODY[1]]
    kinds = settle(lines, [classify(line, marked=False) for line in lines])
    assert kinds == [Kind.GOOD, Kind.BAD, Kind.BAD, Kind.BAD, Kind.BAD, Kind.GOOD]


def test_a_clean_article_with_a_list_of_names_keeps_every_line():
    lines = [BODY[0], "Best Actor: Tomas Wren (The Lantern Keeper)", "Best Film: Salt And Iron", BODY[1]]
    assert article_lines(lines, [False] * 4) == [True] * 4


def test_a_related_heading_inside_the_article_does_not_cut_it():
    page = MENU + BODY[:2] + ["Related stories", "Harbour Dues Rise Again"] + BODY[2:] + FOOTER
    text = "\n\n".join(kept(page))
    for paragraph in BODY:
        assert paragraph in text


def test_a_page_without_prose_keeps_its_fullest_lines():
    table = [
        "first round: 10 March at the airfield circuit, practice on the day before",
        "second round: 7 April on the coast road, to be confirmed by the organisers",
        "third round: 21 April at the airfield circuit again, with the night race",
    ]
    assert kept(MENU + table + FOOTER) == table


def test_the_classifier_works_without_the_phrase_list():
    cleaner = Cleaner(phrases=re.compile(r"(?!x)x"))  # a pattern that matches nothing
    page = [*MENU, "Home › Local › Marrowby", *BODY, *STORY_LIST]
    assert cleaner.clean("Tram depot", "\n".join(page), "page.txt")[0].text.split("\n\n") == BODY


RESULTS_TABLE = [
    "Pos",
    "Rider",
    "Points",
    "1",
    "Ines Varga",
    "212",
    "2",
    "Tomas Wren",
    "198",
    "3",
    "Olek Brandt",
    "176",
]


BEFORE_TABLE = [
    "Ines Varga won the Marrowby hill climb on Sunday, taking the lead on the second run and holding it through a "
    "final climb that was slowed by rain.",
    "The race drew the largest field in its history, with riders coming from four counties and two clubs entering "
    "a full team for the first time.",
]
AFTER_TABLE = [
    "Varga said the last bend had been wet all afternoon and that she had braked far earlier there than she had in "
    "practice on Saturday.",
    "The next round is on the coast road in April, where Wren won last year by less than a second on a bike he has "
    "since sold to a club in the north.",
]


def test_a_table_between_two_parts_of_the_article_is_kept():
    page = MENU + BEFORE_TABLE + RESULTS_TABLE + AFTER_TABLE + FOOTER + STORY_LIST
    assert kept(page) == BEFORE_TABLE + RESULTS_TABLE + AFTER_TABLE


def test_a_table_after_the_headline_wins_over_a_sidebars_prose():
    sidebar = [
        "Listen to the weekly podcast, where our two presenters talk over every race of the season in depth.",
        "Watch the highlights",
        "Every race of the season is on the video page, with the best overtakes picked out for you by our editors.",
    ]
    page = [*MENU, "Marrowby hill climb standings", "Share", *RESULTS_TABLE, "Share", "Tags", *sidebar]
    cleaner = Cleaner()
    text = cleaner.clean("Marrowby hill climb standings | Gazette", "\n".join(page), "page.txt")[0].text
    assert text.split("\n\n") == RESULTS_TABLE


def test_numbers_repeated_across_pages_are_not_learned_as_furniture():
    pages = [f"Story {n}\nShare\n0\n1\n2019" for n in range(6)]
    cleaner = Cleaner.for_corpus(pages)
    assert "share" in cleaner.common_lines
    assert not {"0", "1", "2019"} & cleaner.common_lines


def test_a_sentence_in_a_script_without_spaces_counts_as_one():
    from semsearch.ingest.boilerplate import is_sentence

    assert is_sentence("市場は火曜日に開かれた。")
    assert not is_sentence("市場のニュース")


HEADLINE = "Tram depot to become a market | Marrowby Gazette"
OTHER_STORIES = [
    "Ferry Timetable Changes For Summer Season",
    "Ola Brandt",
    "Tuesday 14 May",
    "The harbour company will run two extra crossings on weekdays from June, after a busy spring left "
    "long queues of cars and vans on the quay.",
    "Two Schools Merge After Long Consultation",
    "Ines Varga",
    "Tuesday 14 May",
    "Parents backed the plan by a narrow margin, and the combined school will open in the old grammar "
    "building in the autumn term.",
    "New Cycle Lane Opens On Harbour Road",
    "Tomas Wren",
    "Monday 13 May",
    "Riders now have a separate lane along the whole seafront, which the county says will cut accidents "
    "at the busy junction.",
    "Library Extends Its Opening Hours",
    "Ola Brandt",
    "Monday 13 May",
    "The reading room will stay open until nine on Thursdays, with volunteers from the local history "
    "society staffing the desk.",
]


def kept_under(title: str, lines: list[str]) -> list[str]:
    return Cleaner().clean(title, "\n".join(lines), "page.txt")[0].text.split("\n\n")


def test_a_list_of_other_stories_laid_out_as_cards_is_not_the_article():
    page = [*MENU, "Tram depot to become a market", *BODY, "Share", "More from the Gazette", *OTHER_STORIES, *FOOTER]
    assert kept_under(HEADLINE, page) == BODY


def test_cards_that_speak_of_the_headlines_subject_are_the_article():
    cards = [
        "When will the market open?",
        "The depot market opens in the spring, once the roof over the old tram sheds has been repaired and "
        "inspected by the county.",
        "Who can trade at the market?",
        "Any grower from the district can apply for a stall at the depot, and the first year's rent at the "
        "market is reduced by half.",
        "What happens to the tram depot's old rails?",
        "The rails stay in the floor of the depot as a reminder of the trams, covered by thick glass panels "
        "near the entrance hall.",
    ]
    page = [*MENU, "Tram depot market: what we know", *cards, *FOOTER]
    assert card_runs([classify(line, marked=False) for line in page]) == [range(len(MENU) + 1, len(MENU) + 7)]
    assert kept_under("Tram depot market: what we know | Marrowby Gazette", page) == cards


def test_an_article_below_a_rail_of_other_stories_starts_at_its_headline():
    rail = [line for line in OTHER_STORIES if len(line) > 80]
    article = BEFORE_TABLE + AFTER_TABLE
    page = [*MENU, *rail, "Latest", "Varga wins the Marrowby hill climb", "By Ada Croft", *article, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == article


def test_a_numbered_list_the_article_begins_is_kept_to_its_last_item():
    intro = "The market's first traders were chosen by lot on Friday, and the council published the list of stalls:"
    items = ["1) Orchard Fruit From Kell Farm", "2) Cheeses Of The Upper Valley", "3) Honey And Wax From Brandt Hives"]
    page = [*MENU, BODY[0], intro, *items, "Share", "Tags", *STORY_LIST]
    assert kept_under(HEADLINE, page) == [BODY[0], intro, *items]


def test_a_trail_of_links_is_navigation_even_when_it_ends_like_a_sentence():
    from semsearch.ingest.boilerplate import is_link_like

    assert is_link_like("Home » Local news » Tram depot to become a…")
    assert not is_link_like("The depot, he said, is ready.")


def test_an_export_s_one_paragraph_story_holding_separators_is_kept(tmp_path):
    """A JSON story is one line; separators inside its prose make no menu of it (and lose no article)."""
    from semsearch.ingest import ingest
    from semsearch.ingest.boilerplate import is_link_like

    story = (
        "Ferry crews at Brindle Quay stopped work on Monday over night-shift pay. They say the operator has ignored "
        "their letters for a year. Their placards read Pay | Safety | Respect."
    )
    (tmp_path / "crews.jsonl").write_text(json.dumps({"title": "Ferry crews stop work", "text": story}) + "\n")
    result = ingest([tmp_path])
    assert [a.text for a in result.articles] == [story] and result.skipped == []
    assert is_link_like("Home | News | Sport | Weather | Terms of use")


def test_a_long_paragraph_without_a_final_stop_that_follows_prose_is_kept():
    unfinished = (
        "The council will publish the stall rents on its website next week, and the first review of the prices is due "
        "in the summer of 2026"
    )
    page = [*MENU, *BEFORE_TABLE, unfinished, *FOOTER]
    assert kept_under(HEADLINE, page) == [*BEFORE_TABLE, unfinished]


def test_a_subheading_that_repeats_the_headline_does_not_cut_the_article():
    article = [BEFORE_TABLE[0], "How Varga won the Marrowby hill climb", BEFORE_TABLE[1], *AFTER_TABLE]
    page = [*MENU, *article, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == article


def test_a_bar_the_page_repeats_under_each_paragraph_is_furniture():
    bar = "Share on Facebook Share on Twitter Share by email Print this page"
    page = [*MENU, BEFORE_TABLE[0], bar, BEFORE_TABLE[1], bar, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == BEFORE_TABLE


def test_on_a_page_without_prose_the_table_under_the_headline_is_the_article():
    rounds = [f"Round {n}: {day} – {place}" for n, (day, place) in enumerate(CALENDAR, start=1)]
    notes = [
        "* Dates of the hill climb may change when the airfield is needed for other events",
        "* Published by the club after its annual meeting in January",
    ]
    page = [*MENU, "Marrowby hill climb calendar 2026", *rounds, *notes, "Share", "Tags", *STORY_LIST]
    assert kept_under("Marrowby hill climb calendar 2026 | Gazette", page) == rounds + notes


CALENDAR = [("10 March", "airfield"), ("7 April", "coast road"), ("21 April", "airfield"), ("5 May", "quarry lane")]


# Pages in other languages, written for these tests: the same furniture as English pages in their own words.
FRENCH_PARAGRAPHS = [
    "Le conseil de la métropole de Valmont a voté jeudi soir le prolongement de la ligne 2 du tramway jusqu'à "
    "l'aéroport, un chantier estimé à 480 millions d'euros.",
    "Les travaux doivent commencer au printemps 2026 et durer deux ans, selon le calendrier présenté par le "
    "vice-président chargé des transports, Bernard Olivier.",
    "Par ailleurs, le maire a annoncé que trois nouvelles stations seraient construites dans les quartiers nord, où "
    "aucune ligne ne passe aujourd'hui.",
    "Les associations d'usagers saluent un projet attendu depuis longtemps, mais regrettent que la fréquence des "
    "rames reste inchangée le dimanche.",
    "« Il faudra lire aussi les petites lignes du contrat avant de crier victoire », a prévenu Hélène Roux, "
    "présidente du collectif Valmont en commun.",
]
FRENCH_SCRAPE = [
    *("Accueil", "Actualités", "International", "Politique", "Économie", "Culture", "Se connecter"),
    "Le tramway de Valmont prolongé jusqu'à l'aéroport d'ici 2028",
    "Par Jeanne Martin",
    "Publié le 3 avril 2025 à 14h05, mis à jour le 4 avril 2025 à 09h12",
    *("Partager cet article", "Facebook", "Twitter", "E-mail", "Copier le lien"),
    *FRENCH_PARAGRAPHS[:2],
    "Lire aussi : À Valmont, les bus de nuit reviennent après dix ans d'absence",
    FRENCH_PARAGRAPHS[2],
    "Publicité",
    *FRENCH_PARAGRAPHS[3:],
    "Abonnez-vous pour lire la suite",
    "Déjà abonné ? Se connecter",
    "Inscrivez-vous à notre newsletter",
    "Recevez chaque matin l'essentiel de l'actualité de Valmont.",
    *("Les plus lus", "Mentions légales", "Politique de confidentialité", "Tous droits réservés"),
]


def ingested(tmp_path, name: str, lines: list[str]):
    from semsearch.ingest import ingest

    (tmp_path / name).write_text("\n".join(lines) + "\n", "utf-8")
    [article] = ingest([tmp_path / name]).articles
    return article


def test_a_french_scrape_loses_its_furniture_and_keeps_its_headline_date_and_every_paragraph(tmp_path):
    """Menu, byline, date line, share bar, a link to another story, an advertisement's marker, the paywall's and the
    newsletter's prompts go; a paragraph opening "Par ailleurs" and a quote holding "lire aussi" stay."""
    article = ingested(tmp_path, "tramway.txt", FRENCH_SCRAPE)
    assert (article.title, article.published) == (
        "Le tramway de Valmont prolongé jusqu'à l'aéroport d'ici 2028",
        "2025-04-03",
    )
    assert article.text.split("\n\n") == FRENCH_PARAGRAPHS


GERMAN_PARAGRAPHS = [
    "Die Fährverbindung zwischen dem Hafen von Nordstadt und der Insel Lindholm wird ab dem 1. Juni wieder täglich "
    "bedient, wie die Reederei am Mittwoch mitteilte.",
    "Im vergangenen Winter waren wegen Personalmangels an drei Tagen der Woche keine Schiffe gefahren, was auf der "
    "Insel für großen Ärger gesorgt hatte.",
    "Von Mai an sollen zwei zusätzliche Kapitäne eingestellt werden, sagte Geschäftsführerin Petra Lang auf einer "
    "Pressekonferenz im Rathaus.",
    "Die Inselbewohner begrüßten die Entscheidung, fordern aber zusätzlich eine späte Abfahrt am Freitagabend.",
]
SPANISH_PARAGRAPHS = [
    "El pleno del ayuntamiento de Villaseca aprobó el jueves convertir la antigua estación de tren en una "
    "biblioteca municipal con sala de estudio.",
    "Las obras costarán 2,3 millones de euros y comenzarán en septiembre, según explicó la concejala de Cultura, "
    "Lucía Ferrer.",
    "Por primera vez, el edificio tendrá un ascensor y una rampa de acceso para personas con movilidad reducida.",
    "Los vecinos podrán proponer el nombre de la biblioteca hasta el 30 de mayo.",
]


@pytest.mark.parametrize(
    ("lines", "title", "published", "paragraphs"),
    [
        (
            [
                *("Startseite", "Politik", "Wirtschaft", "Sport"),
                "Hafenfähre nach Lindholm fährt ab Juni wieder täglich",
                "Von Klara Becker und Jonas Roth",
                "Veröffentlicht am 5. März 2025, 14:05 Uhr",
                "Artikel teilen",
                *GERMAN_PARAGRAPHS[:2],
                "Anzeige",
                GERMAN_PARAGRAPHS[2],
                "Lesen Sie auch: Inselschule bekommt ein neues Dach",
                GERMAN_PARAGRAPHS[3],
                *("Jetzt abonnieren und weiterlesen", "Meistgelesen", "Impressum", "Datenschutz"),
            ],
            "Hafenfähre nach Lindholm fährt ab Juni wieder täglich",
            "2025-03-05",
            GERMAN_PARAGRAPHS,
        ),
        (
            [
                *("Portada", "Nacional", "Deportes"),
                "El ayuntamiento de Villaseca abrirá una biblioteca en la antigua estación",
                "Por María José Ruiz",
                "Publicado el 3 de abril de 2025 a las 14:05 h",
                "Compartir",
                *SPANISH_PARAGRAPHS[:2],
                "Publicidad",
                SPANISH_PARAGRAPHS[2],
                "Lea también: Villaseca recupera el mercado de los sábados",
                SPANISH_PARAGRAPHS[3],
                *("Suscríbete para seguir leyendo", "¿Ya eres suscriptor? Inicia sesión", "Lo más leído"),
            ],
            "El ayuntamiento de Villaseca abrirá una biblioteca en la antigua estación",
            "2025-04-03",
            SPANISH_PARAGRAPHS,
        ),
    ],
    ids=["de", "es"],
)
def test_german_and_spanish_scrapes_lose_their_furniture(tmp_path, lines, title, published, paragraphs):
    article = ingested(tmp_path, "page.txt", lines)
    assert (article.title, article.published, article.text.split("\n\n")) == (title, published, paragraphs)


def test_paragraphs_with_advertisement_marks_and_story_links_between_them_are_no_list_of_cards():
    """Three paragraphs each followed by an advertisement's marker or a link read like cards of other stories when
    none of them names the headline's subject; those lines stand between an article's paragraphs."""
    page = [
        FRENCH_PARAGRAPHS[0],
        FRENCH_PARAGRAPHS[1],
        "Publicité",
        FRENCH_PARAGRAPHS[2],
        "Lire aussi | Les bus de nuit reviennent après dix ans d'absence",
        FRENCH_PARAGRAPHS[3],
        "Publicité",
    ]
    [article] = Cleaner().clean("Le tramway de Valmont prolongé jusqu'à l'aéroport", "\n".join(page), "page.html")
    assert article.text.split("\n\n") == FRENCH_PARAGRAPHS[:4]


HEADLINES = {
    "fr": "La piscine de Valmont fermée six mois",
    "de": "Stadtbad Nordstadt schließt für sechs Monate",
    "es": "La piscina de Villaseca cierra seis meses",
    "it": "La piscina di Valfonda chiude per sei mesi",
    "pt": "Piscina de Vila Serena fecha por seis meses",
}
STORIES = {
    "fr": [
        "La mairie de Valmont a annoncé lundi la fermeture de la piscine municipale pendant six mois pour travaux.",
        "Le bassin olympique, construit en 1974, perd chaque jour plusieurs milliers de litres d'eau.",
        "Les clubs de natation seront accueillis dans la piscine de la commune voisine jusqu'à la réouverture.",
        "La facture des travaux atteint 3,2 millions d'euros, dont la moitié sera payée par la région.",
    ],
    "de": [
        "Das Stadtbad von Nordstadt bleibt wegen einer Sanierung ab Montag für sechs Monate geschlossen.",
        "Das Becken aus dem Jahr 1974 verliert nach Angaben der Stadtwerke täglich mehrere tausend Liter Wasser.",
        "Die Schwimmvereine dürfen bis zur Wiedereröffnung das Hallenbad der Nachbargemeinde nutzen.",
        "Die Arbeiten kosten 3,2 Millionen Euro, die Hälfte davon zahlt das Land.",
    ],
    "es": [
        "El ayuntamiento de Villaseca cerrará la piscina municipal durante seis meses a partir del lunes por obras.",
        "El vaso olímpico, construido en 1974, pierde cada día varios miles de litros de agua.",
        "Los clubes de natación entrenarán en la piscina del municipio vecino hasta la reapertura.",
        "Las obras costarán 3,2 millones de euros, la mitad de los cuales pagará la comunidad autónoma.",
    ],
    "it": [
        "Il comune di Valfonda chiuderà la piscina comunale per sei mesi a partire da lunedì per lavori.",
        "La vasca olimpionica, costruita nel 1974, perde ogni giorno diverse migliaia di litri d'acqua.",
        "Le società di nuoto si alleneranno nella piscina del comune vicino fino alla riapertura.",
        "I lavori costeranno 3,2 milioni di euro, metà dei quali pagati dalla regione.",
    ],
    "pt": [
        "A prefeitura de Vila Serena vai fechar a piscina municipal por seis meses a partir de segunda-feira.",
        "A piscina olímpica, construída em 1974, perde todos os dias vários milhares de litros de água.",
        "Os clubes de natação vão treinar na piscina do município vizinho até a reabertura.",
        "As obras vão custar 3,2 milhões de reais, metade deles pagos pelo governo do estado.",
    ],
}


@pytest.mark.parametrize(
    ("language", "interruption"),
    [
        ("fr", "Publicité"),
        ("fr", "La suite après la publicité"),
        ("fr", "Lire aussi : Le club de natation cherche un nouveau bassin"),
        ("fr", "Partager cet article\nFacebook\nTwitter\nCopier le lien"),
        ("de", "Anzeige"),
        ("de", "Lesen Sie auch: Neues Hallenbad kostet mehr als geplant"),
        ("de", "Artikel teilen\nFacebook\nLink kopieren"),
        ("es", "Publicidad"),
        ("es", "Lea también: El club de natación busca una nueva piscina"),
        ("es", "Compartir\nFacebook\nCopiar enlace"),
        ("it", "Pubblicità"),
        ("it", "Leggi anche: La società di nuoto cerca una nuova vasca"),
        ("it", "Condividi\nFacebook\nCopia link"),
        ("pt", "Publicidade"),
        ("pt", "Leia também: Clube de natação procura nova piscina"),
        ("pt", "Compartilhe\nFacebook\nCopiar link"),
    ],
)
def test_an_interruption_in_another_language_loses_no_paragraph_on_either_side(tmp_path, language, interruption):
    story = STORIES[language]
    lines = [HEADLINES[language], *story[:2], interruption, *story[2:]]
    assert ingested(tmp_path, "pool.txt", lines).text.split("\n\n") == story


@pytest.mark.parametrize(
    ("language", "byline", "date_line", "outlet", "published"),
    [
        (
            "fr",
            "Par Élodie Roux, Le Courrier de Valmont",
            "Publié le 3 avril 2025 à 14h05, mis à jour le 4 avril 2025 à 09h12",
            "Le Courrier de Valmont",
            "2025-04-03",
        ),
        ("fr", "Par Jeanne Martin et Paul Girard", "Mis à jour le jeudi 3 avr. 2025 à 9 h 12", None, "2025-04-03"),
        ("de", "Von Klara Becker, Nordstädter Bote", "Stand: 05.03.2025, 14:05 Uhr", "Nordstädter Bote", "2025-03-05"),
        ("de", "Von Klara Becker und Jonas Roth", "Donnerstag, 3. April 2025 um 14:05 Uhr", None, "2025-04-03"),
        (
            "es",
            "Por Ángel Ruiz, El Diario de Villaseca",
            "Actualizado: jueves, 3 de abril de 2025 a las 14:05 h",
            "El Diario de Villaseca",
            "2025-04-03",
        ),
        ("it", "Di Giulia Bianchi", "Pubblicato il 3 aprile 2025 alle 14:05", None, "2025-04-03"),
        (
            "pt",
            "Por Ana de la Cruz, Jornal do Vale",
            "Publicado em 3 de abril de 2025 às 14h05",
            "Jornal do Vale",
            "2025-04-03",
        ),
    ],
)
def test_a_byline_and_date_line_in_another_language_are_the_page_s_own(
    tmp_path, language, byline, date_line, outlet, published
):
    story = STORIES[language]
    article = ingested(tmp_path, "pool.txt", [HEADLINES[language], byline, date_line, *story])
    assert (article.title, article.outlet, article.published) == (HEADLINES[language], outlet, published)
    assert article.text.split("\n\n") == story


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("fr", "Par ailleurs, la région prendra en charge la moitié du coût des travaux, a précisé le maire."),
        (
            "fr",
            "Il faut lire aussi le rapport des ingénieurs pour comprendre l'ampleur des fuites, estime l'opposition.",
        ),
        ("fr", "Publicité : la mairie a dépensé 40 000 euros en affiches pour annoncer la fermeture."),
        ("fr", "« Abonnez-vous à la newsletter de la piscine », a lancé le maire en présentant le nouveau site."),
        ("fr", "Publié le 3 avril 2025, le rapport des ingénieurs a été mis à jour le 10 avril après une erreur."),
        ("fr", "Partager les coûts avec la région reste la priorité de la mairie, a répété l'adjoint aux sports."),
        ("de", "Von Montag an bleibt auch die Sauna geschlossen, teilten die Stadtwerke mit."),
        ("de", "Lesen Sie auch: die Stadtwerke haben ihren Bericht am Freitag ins Netz gestellt."),
        ("es", "Por su parte, la oposición pidió una auditoría de las obras antes de la reapertura."),
        ("pt", "Publicidade: a prefeitura gastou 40 mil reais em cartazes para anunciar o fechamento."),
    ],
)
def test_prose_that_opens_like_furniture_of_another_language_is_kept(tmp_path, language, line):
    story = STORIES[language]
    article = ingested(tmp_path, "pool.txt", [HEADLINES[language], *story[:2], line, *story[2:]])
    assert article.text.split("\n\n") == [*story[:2], line, *story[2:]]


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("jeudi 3 avril 2025", "2025-04-03"),
        ("3 avr. 2025", "2025-04-03"),
        ("1er mars 2025", "2025-03-01"),
        ("Donnerstag, 3. April 2025", "2025-04-03"),
        ("5. Okt. 2025", "2025-10-05"),
        ("jueves, 3 de abril de 2025", "2025-04-03"),
        ("3 de abr. de 2025", "2025-04-03"),
        ("giovedì 3 aprile 2025", "2025-04-03"),
        ("quinta-feira, 3 de abril de 2025", "2025-04-03"),
        ("Valmont 3 avril 2025", None),  # a word before the day that is no weekday
    ],
)
def test_dates_written_in_other_languages_with_weekdays_and_short_months(value, day):
    from semsearch.ingest.cleaning import parse_date

    assert parse_date(value) == day


def test_a_two_word_headline_the_page_title_opens_with_is_the_title_above_a_date_line(tmp_path):
    """A date line is never the headline; the line the page title opens with is, though it has two words only."""
    lines = [
        "Ranking Kart | Pista Livre | F1 | Indy | Kart",
        *("Notícias", "Colunistas", "Piloto da Semana", "Ranking Kart"),
        "sexta-feira, 14 de março de 2025 às 18:40",
        "Compartilhe no WhatsApp",
        "Nesta página você acompanha o ranking atualizado do campeonato regional de kart após cada etapa.",
        "A próxima etapa será disputada no kartódromo de Vila Serena no fim de semana de 12 de abril.",
    ]
    article = ingested(tmp_path, "kart.txt", lines)
    assert (article.title, article.published) == ("Ranking Kart", "2025-03-14")
    assert article.text.split("\n\n") == lines[-2:]


def test_a_feed_item_loses_its_link_on_to_the_rest_in_another_language(tmp_path):
    from semsearch.ingest import ingest

    (tmp_path / "feed.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Le Courrier de Valmont</title>'
        "<item><title>La piscine de Valmont fermée six mois</title><pubDate>Mon, 07 Apr 2025 08:00:00 GMT</pubDate>"
        "<description>La mairie a annoncé lundi la fermeture de la piscine municipale. Lire la suite…</description>"
        "</item></channel></rss>",
        "utf-8",
    )
    [article] = ingest([tmp_path]).articles
    assert article.text == "La mairie a annoncé lundi la fermeture de la piscine municipale."
