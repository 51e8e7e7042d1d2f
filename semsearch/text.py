"""Words, stems, stopwords and dates: the text primitives every stage shares.

Ranking, the brief, stories and the index must agree on what a word is, or a query's terms stop matching
the terms stored at build time. So each primitive is defined once, here.
"""

from __future__ import annotations

import calendar
import re
import threading
import unicodedata
from collections.abc import Iterable
from datetime import date

import Stemmer

# A word is a run of letters and digits; an underscore splits words ("covid_19" is "covid" and "19").
WORD = re.compile(r"[^\W_]+")

# What a sentence is about is in its other words: these (and the pieces of "it's", "we'll") only hold it
# together. Reporting verbs are not among them: "said" ties a story's attributed statements together, and
# dropping it too made BBC briefs worse.
FUNCTION_WORDS = frozenset(
    "a about above across after afterwards again against ago all almost along already also although always "
    "am among amongst an and another any anyone anything anyway anywhere are around as at away b be became "
    "because become becomes been before being below beside besides between beyond both but by c can cannot "
    "could d did do does doing done down during e each either else elsewhere enough etc even ever every everyone "
    "everything f few for former formerly from further g get gets getting got h had has have having he her "
    "here hers herself him himself his how however i if in indeed into is it its itself j just k l last later "
    "latter least less ll m many may me meanwhile might more moreover most mostly much must my myself n neither "
    "never nevertheless next no nobody none nor not nothing now nowhere o of off often on once one only onto "
    "or other others otherwise our ours ourselves out over own p per perhaps q quite r rather re s same several "
    "shall she should since so some somehow someone something sometimes still such t than that the their theirs "
    "them themselves then there thereby therefore these they this those though through throughout thus to together "
    "too toward towards u under unless until up upon us v ve very via w was we well were what whatever when "
    "whenever where whereas whether which while who whoever whom whose why will with within without would x "
    "y yet you your yours yourself yourselves z two three four five six seven eight nine ten".split()
)

# Function words of common news languages: prose is full of them, labels and headlines are not (the page
# furniture test of any article, whatever its language; FUNCTION_WORDS are the English ones claims are read by).
_FUNCTION_WORDS_BY_LANGUAGE = (
    "a an the and or but of in on at to for from by with as is are was were be been has have had it its",
    "this that these those he she they we you his her their our not no will would can could said says who",
    "which when where than then there into after before about over also more most one two",
    "der die das und ist ein eine nicht mit von zu den dem des im sich auf für sie es",
    "de le la les et est un une des du au aux en dans pour pas que qui sur par avec il elle ce",
    "el los las y es un una del al en por con para que se su lo como",
    "il lo gli e è di da che per non con una sono",
    "o os as e é um uma do da dos das em no na por com que para",
    "en het een van is dat op te zijn met voor niet",
    "и в не на что с по как это он она они а но из за к у от до так же бы то или если уже",
)
ANY_FUNCTION_WORDS = frozenset(word for words in _FUNCTION_WORDS_BY_LANGUAGE for word in words.split())

# The glue of a question, dropped before its words become BM25 terms. Short on purpose: BM25's idf already
# discounts common words, and a longer list (FUNCTION_WORDS) drops words like "last" or "one" that questions
# mean. Reporting verbs are here, unlike in FUNCTION_WORDS: "what did X say" asks about X, not about saying.
QUESTION_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have how in is it its of on or say said says that the "
    "their them they this to was were what when where which who why will with would about after".split()
)

# Month and weekday names: capitalised by convention, so no name of a person, place or body.
MONTHS = tuple(m.lower() for m in calendar.month_name if m)
WEEKDAYS = tuple(d.lower() for d in calendar.day_name)
CALENDAR_WORDS = frozenset(MONTHS + WEEKDAYS)
# A figure as written in digits ("2,300", "2.6", "4").
FIGURE = re.compile(r"\d[\d,.]*\d|\d")
# Month names of other languages news archives are often in (German, French, Spanish, Italian, Portuguese,
# Dutch), each with the English name the date formats read; English-looking ones ("april") need none. The short
# forms pages print in date lines ("3 avr. 2025", "5. Okt. 2025", "3 nov. 2025") are read too, whatever their
# language: the English-looking ones with their stop.
_FOREIGN_MONTHS = {
    name: english
    for english, names in {
        "January": "januar jänner janvier enero gennaio janeiro januari jan janv ene gen",
        "February": "februar février fevrier febrero febbraio fevereiro februari feb févr fevr fév fev",
        "March": "märz maerz mars marzo março maart mar mär",
        "April": "avril abril aprile apr avr abr",
        "May": "mai mayo maggio maio mei mag",
        "June": "juni juin junio giugno junho jun giu",
        "July": "juli juillet julio luglio julho jul juil lug",
        "August": "août aout agosto augustus aug ago",
        "September": "septembre septiembre settembre setembro sep sept set",
        "October": "oktober octobre octubre ottobre outubro oct okt ott out",
        "November": "novembre noviembre novembro nov",
        "December": "dezember décembre decembre diciembre dicembre dezembro dec déc dez dic",
    }.items()
    for name in names.split()
}
# Weekday names of the same languages, which a date line may open with ("jeudi 3 avril 2025", "Donnerstag,
# 3. April 2025", "quinta-feira, 3 de abril de 2025"); the date parser reads the date without them.
_FOREIGN_WEEKDAYS = frozenset(
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag "
    "lunes martes miércoles miercoles jueves viernes sábado sabado domingo "
    "lunedì martedì mercoledì giovedì venerdì sabato domenica "
    "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira".split()
)
_FOREIGN_DAY_MONTH = re.compile(
    r"(?:(?P<weekday>[^\W\d_]+(?:-feira)?),?\s+)?"
    r"(?P<day>\d{1,2})\.?\s+(?:de\s+)?(?P<month>[^\W\d_]+)\.?\s+(?:de\s+)?(?P<year>\d{4})"
)
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEARLESS_DAY = re.compile(r"--\d{2}-\d{2}")
_DAY_PARTS = re.compile(r"(?:(?P<year>\d{4})|-)-(?P<month>\d{2})-(?P<day>\d{2})")
_WORDING = re.compile(r"[^\W_]+(?:[.,'’-][^\W_]+)*|[$£€¥%]")
_MEMO_LIMIT = 200_000  # stems remembered, each of a word of at most _MEMO_WORD characters
_MEMO_WORD = 40


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, in order."""
    # Found before lower-casing, which can change a word's letters ("İ" → "i" + a dot).
    return [w.lower() for w in WORD.findall(text)]


def word_ngrams(text: str, n: int) -> set[str]:
    """The runs of n words of a text (its one run when it is shorter), each joined by spaces."""
    tokens = words(text)
    return {" ".join(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def one_line(text: str) -> str:
    """A text without control characters, its line breaks, tabs and runs of blanks one space each: a line
    break between two words separates them, as a space would."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def wording(text: str) -> list[str]:
    """A text's words and figures as two wordings of one statement are compared: case and the punctuation
    between words ignored, a figure's own separators ("2,300", "4.5") and its currency or percent sign kept."""
    return [w.lower() for w in _WORDING.findall(text)]


def content_words(text: str) -> set[str]:
    """The distinct lower-cased words of a text that are not function words."""
    return {w for w in words(text) if w not in FUNCTION_WORDS}


def question_words(question: str) -> list[str]:
    """The words of a question that carry its meaning, lower-cased, in order."""
    return [w for w in words(question) if w not in QUESTION_STOPWORDS]


def fold_accents(word: str) -> str:
    """A word without its accents ("café" → "cafe"), as FTS5's unicode61 tokenizer folds them."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


class Stems:
    """Words lower-cased, accent-folded and Porter-stemmed: the same terms at build and at query time."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("porter")
        self._memo: dict[str, str] = {}
        self._lock = threading.Lock()  # a PyStemmer object is not safe to share between threads

    def stem(self, word: str) -> str:
        """The term of one lower-cased word."""
        term = self._memo.get(word)
        if term is None:
            with self._lock:
                term = self._stemmer.stemWord(word if word.isascii() else fold_accents(word))
            if len(word) <= _MEMO_WORD and len(self._memo) < _MEMO_LIMIT:
                self._memo[word] = term
        return term

    def terms(self, text: str) -> list[str]:
        """The terms of a text, in order, one per word."""
        memo, stem = self._memo, self.stem
        return [memo.get(w) or stem(w) for w in words(text)]

    def searchable(self, text: str) -> list[str]:
        """The terms of a text that are indexed and searched: all but empty ones."""
        # Porter stems a lone "s" (a possessive's) to nothing; as a term it would match every "'s".
        return [t for t in self.terms(text) if t]

    def marks(self, text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
        """(start, end) of each word of a text whose term is one of the given terms."""
        wanted = set(terms) - {""}
        if not wanted:
            return []
        memo, stem = self._memo, self.stem
        return [
            (m.start(), m.end()) for m in WORD.finditer(text) if (memo.get(w := m.group().lower()) or stem(w)) in wanted
        ]


def calendar_day(value: str | None) -> date | None:
    """The day a 'YYYY-MM-DD…' value names, or None when it names no full day (undated, '--MM-DD', invalid)."""
    if not value or not _ISO_DAY.fullmatch(value[:10]):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def day_number(value: str | None) -> int:
    """A full date as the integer YYYYMMDD (comparable, storable in an int column), or 0 when there is none."""
    day = calendar_day(value)
    return day.year * 10_000 + day.month * 100 + day.day if day else 0


def day_parts(value: str | None) -> tuple[int | None, int, int] | None:
    """(year, month, day) of a 'YYYY-MM-DD…' value, or (None, month, day) of a year-less '--MM-DD'; None for
    anything else (the month is checked, the day of the month not)."""
    match = _DAY_PARTS.fullmatch(value[:10] if value and value[0].isdigit() else value or "")
    if not match or not 1 <= int(match["month"]) <= 12:
        return None
    return (int(match["year"]) if match["year"] else None), int(match["month"]), int(match["day"])


def is_yearless_day(value: str) -> bool:
    """Whether a value is a day without its year, written '--MM-DD' (ISO 8601's month-day form)."""
    return bool(_YEARLESS_DAY.fullmatch(value))


def english_date(value: str) -> str:
    """A date written as another language writes it (its month's name, full or short, a weekday before it, a
    German day's stop) or in CJK figures, in an English form a date parser reads: "5. März 2025" → "5 March 2025",
    "jeudi 3 avr. 2025" → "3 April 2025", "2025年2月8日" → "2025-02-08"; any other value as it is."""
    cjk = _CJK_DATE.fullmatch(value)
    if cjk:
        return f"{cjk[1]}-{int(cjk[2]):02d}-{int(cjk[3]):02d}"
    day_month = _FOREIGN_DAY_MONTH.fullmatch(value)
    if not day_month or (day_month["weekday"] and day_month["weekday"].casefold() not in _FOREIGN_WEEKDAYS):
        return value
    # A German day keeps its stop and may name an English-looking month ("5. April 2025"): both are rewritten.
    month = _FOREIGN_MONTHS.get(day_month["month"].casefold(), day_month["month"])
    return f"{day_month['day']} {month} {day_month['year']}"


def is_written_day(value: str) -> bool:
    """Whether a value is written YYYY-MM-DD (whether it names a day of the calendar is another question)."""
    return bool(_ISO_DAY.fullmatch(value))


def checked_day(name: str, value: str) -> str:
    """A 'YYYY-MM-DD' value as given, or a ValueError naming the field and what is wrong with it."""
    if not is_written_day(value):
        raise ValueError(f"{name} must be a date YYYY-MM-DD")
    if calendar_day(value) is None:
        raise ValueError(f"{name} is not a day of the calendar: {value}")
    return value


# The stems of the query side and the writer's check; each index writer has its own, so a build's words do not
# stay in memory.
STEMS = Stems()


_UNITS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split()
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ONES = ["one", *_UNITS[:8]]
# Spelled-out numbers from two up ("one" is too often not a quantity), as their values.
NUMBER_WORDS = {w: float(i + 2) for i, w in enumerate(_UNITS)} | {
    f"{t}-{o}" if o else t: float(10 * (i + 2) + j) for i, t in enumerate(_TENS) for j, o in enumerate(["", *_ONES])
}
