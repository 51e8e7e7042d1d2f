"""The writer check's word lists: opposites, negations, hedges and roles, as Porter stems.

They are general English, not any archive's words: each list names a kind of word whose loss or swap
changes what a sentence claims.
"""

from __future__ import annotations

import json
import re
from functools import cache

from ..embedding import model_path
from ..text import STEMS


def stem_set(text: str) -> frozenset[str]:
    """The stems of the words of a list written out as text."""
    return frozenset(STEMS.terms(text))


# Pairs of opposite meanings. A sentence that uses one side where its evidence uses only the other
# reverses it ("rejected" for "accepted", "rose" for "slowed", "westerly" for "easterly").
OPPOSITES = [
    (
        stem_set(
            "rise rose risen increase climb jump grew grow higher highest gain boost soar up hire recover recovery"
        ),
        stem_set("fall fell fallen drop decline decrease slow ease cut lower lowest slump reduce shrank down"),
    ),
    (
        stem_set("accept approve approval back welcome support agree pass favour"),
        stem_set("reject oppose criticise block refuse against veto"),
    ),
    (stem_set("help benefit"), stem_set("hurt harm damage")),
    (stem_set("open reopen"), stem_set("close shut")),
    (stem_set("easy simple straightforward possible"), stem_set("impossible difficult hard")),
    (stem_set("win won victory triumph succeed success"), stem_set("fail failure")),
    (stem_set("profit surplus"), stem_set("loss deficit")),
    (stem_set("enough sufficient adequate"), stem_set("little insufficient inadequate shortage")),
    (stem_set("allow permit"), stem_set("bar ban forbid prohibit")),
    (stem_set("good better best"), stem_set("bad worse worst poor dilapidated derelict")),
    (stem_set("strong stronger strongest"), stem_set("weak weaker weakest")),
    (stem_set("safe safely"), stem_set("unsafe dangerous danger")),
    (stem_set("guilty convict convicted"), stem_set("innocent acquit acquitted")),
    (stem_set("east eastern easterly"), stem_set("west western westerly")),
    (stem_set("north northern northerly"), stem_set("south southern southerly")),
    (stem_set("preserve retain"), stem_set("replace demolish scrap")),
]
# Words of winning over someone: the winner is named before them, the loser after.
DIRECTED = stem_set("beat defeat defeating victory overtook")
# Negation by grammar: any of these restates any other ("no one was hurt" for "nobody was hurt").
DENIALS = stem_set("not no never none nobody nothing neither nor without cannot t")
# Negation, including words that negate by meaning ("exempt" from paying, paintings "missing").
NEGATIONS = DENIALS | stem_set("exempt missing refuse reject deny denied fail unable lack absent avoid refrain abstain")
# "Unless it improves" is "if it does not improve": what a negation of the answer may restate.
NEGATING = NEGATIONS | stem_set("unless")
# What makes a claim uncertain, planned, wished for or someone's estimate; a sentence that restates words
# one of these governs must keep a hedge of its own.
HEDGES = stem_set(
    "could may might probable possibly possible probably potential expected estimate warn caution plan pledge "
    "promise forecast if unless risk threaten propose fear predict hope aim seek want intend consider try "
    "attempt apply think thought believe suggest whether arguably reportedly allegedly apparently seem appear "
    "pricein subjectto"
)
# Conditions govern the clause they qualify as well as the words after them.
CONDITIONS = stem_set("if unless subjectto")
# Hedges of more than one word, written as one so that they can be looked up like the rest ("markets
# price in a cut" is an expectation; "subject to supplies" a condition); "likely" as "probable", since
# its stem is that of "like".
_PHRASES = re.compile(r"\b(pric(?:e|es|ed|ing)) in\b|\b(subject) to\b|\b(?:un)?(likely)\b", re.IGNORECASE)
_JOINED = ("pricein", "subjectto", "probable")
# Hedges an answer may use that do not mark uncertainty in the evidence ("would" is also reported speech).
SOFTENERS = stem_set("would should due")
# Attribution carries no claim of its own: who said it is checked by the names rule.
REPORTING = frozenset(
    "said says say told added stated states according announced announces reported reports noted notes "
    "explained explains described describes".split()
)
# Words that round a figure ("roughly 400", "some 2,300") claim nothing the figure does not.
APPROXIMATE = frozenset("roughly approximately nearly almost around some about just only".split())


def joined_phrases(text: str) -> str:
    """The text with its hedges of several words written as one ("price in" → "pricein")."""
    return _PHRASES.sub(lambda m: next(j for j, g in zip(_JOINED, m.groups(), strict=True) if g), text)


# Words that news prose uses as each other's paraphrase in any story, one group a line: a claim word is
# stated when the evidence uses a word of its group ("walkout" is "strike", "firm" is "company"). They
# count for coverage only: no group holds both sides of a pair of opposites or a negation, and the rules
# still judge every word.
_EQUIVALENT = """
strike walkout stoppage
company firm business group operator
begin began begun start started launch
end ended finish finished conclude
say said claim
rise increase climb jump grow growth surge soar up
fall drop decline decrease slide slump down
steep sharp rapid
raise lift boost increase
cut reduce lower trim lessen
repay repaid payback
buy purchase acquire acquisition
sell offer market
people residents citizens inhabitants population locals
home house houses household dwelling
worker employee staff workforce
job post position role
boss chief head leader director
talks negotiations discussions
deal agreement accord
law legislation rules
plan proposal scheme
fight fighting conflict war combat battle
hit hurt harm damage
bad poor
help aid assist support
big large major huge
small minor little
quick fast swift rapid
compete challenge rival
consider weigh think
link linked related connected tied
cause led lead prompt prompted trigger
return returning back
show reveal demonstrate
find found discover discovery uncover
use employ utilise utilize run operate
ease relieve alleviate
pressure strain stress
try attempt
ask urge call request
warn caution cautioned
storage hold store capacity
break beat top surpass exceed
some part portion share slice
expect predict forecast anticipate
likely probable probably
stay remain
biggest largest
bigger larger
plant facility
need require demand
government administration
should ought
enough sufficient adequate
easy simple straightforward
issue matter
think believe reckon
rely reliance depend dependence dependent
aimed meant intended designed
give gave provide supply donate
judge deem regard view
step move measure
currently now presently
"""
EQUIVALENTS = [stem_set(line) for line in _EQUIVALENT.strip().splitlines()]
# Verbs news prose uses lightly ("saw a rise", "comes with", "going back") claim nothing by themselves.
LIGHT = frozenset("see saw seen sees come comes came coming go goes going gone went".split())
# Endings that make a noun of a verb ("decision" of "decide", "automation" of "automate"), with what the
# verb ends in instead; a claim word is stated when the evidence has the verb, or the other way round.
_NOMINAL = (
    ("ssion", "t"),
    ("sion", "de"),
    ("sion", "d"),
    ("ation", "e"),
    ("ation", ""),
    ("tion", "te"),
    ("ment", ""),
    ("al", "e"),
    ("al", ""),
    ("ure", "e"),
    ("ure", ""),
    ("ance", ""),
    ("ence", ""),
)


# Irregular past forms of common verbs, which no stemmer joins to the verb ("rose" and "rise").
_IRREGULAR = dict(
    pair.split(":")
    for pair in (
        "rose:rise risen:rise fell:fall fallen:fall grew:grow grown:grow won:win lost:lose brought:bring "
        "bought:buy sold:sell paid:pay led:lead left:leave took:take taken:take made:make gave:give given:give "
        "began:begin begun:begin held:hold kept:keep met:meet told:tell thought:think sought:seek fought:fight "
        "struck:strike spent:spend sent:send built:build broke:break broken:break chose:choose chosen:choose "
        "drove:drive driven:drive flew:fly flown:fly froze:freeze frozen:freeze hid:hide stole:steal "
        "stolen:steal wrote:write written:write spoke:speak spoken:speak beaten:beat overtook:overtake "
        "overtaken:overtake"
    ).split()
)


def past_form(word: str) -> bool:
    """Whether a word is an irregular past form of a verb ("overtook", "beaten")."""
    return word in _IRREGULAR


def derived(word: str) -> set[str]:
    """The stems of the word, of the verb an irregular past form or a noun is formed from, by its ending."""
    forms = {word[: -len(end)] + verb for end, verb in _NOMINAL if word.endswith(end) and len(word) - len(end) >= 3}
    return {STEMS.stem(f) for f in {word, _IRREGULAR.get(word, word), *forms}}


@cache
def common_words() -> frozenset[str]:
    """The whole, lower-case words of the packaged model's vocabulary: English words, few of them names."""
    vocabulary = json.loads((model_path() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocabulary if w.isalpha() and w.islower())
