"""Markup that survived a reader: entity references and SGML tags left in titles and bodies.

Wire and newspaper archives come as SGML whose private entities no reader knows (`&HT;` for a tab,
`&MD;` for a dash, `&QL;` for a typesetting quad), as text still holding HTML references (`&lt;`,
`&#3;` in Reuters-21578), or with structural tags pasted into the text (`<TEXT>`, `<P>`). Left in, they
show in titles, split words and count as words in the brief, so every reader's output passes through here.
"""

from __future__ import annotations

import itertools
import re
from html.entities import html5

# A reference: a name (1-31 letters and digits, case kept) or a decimal or hex code point, then ';'.
_REFERENCE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{0,30}));")
# SGML entities of newspaper archives that stand for a character: the rest only steer typesetting.
_SGML_CHARACTERS = {"AMP": "&", "LT": "<", "GT": ">", "MD": "—", "HT": " ", "QUOT": '"', "APOS": "'"}
# Structural tags of news SGML (TIPSTER/TREC, Reuters-21578, NITF); a ticker such as <SRD> is text.
_SGML_TAG = re.compile(
    r"</?(?:DOC|DOCNO|DOCID|DOCTYPE|TEXT|BODY|P|HEADLINE|HL|HEAD|TITLE|BYLINE|DATELINE|DATE|SLUG|LEADPARA|"
    r"ANNOTATION|CATEGORY|PRE|NOTE|TABLE|TR|TD|FILEID|FIRST|SECOND|KEYWORD|SUBJECT|TYPE|AUTHOR|"
    r"REUTERS|UNKNOWN|TOPICS|PLACES|D)\b[^<>]{0,200}>",
    re.I,
)
# Control characters (Reuters ends each story with &#3;); tab, newline and carriage return stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}")


def strip_markup(text: str) -> str:
    """Text with entity references decoded or dropped, news SGML tags removed and control characters gone."""
    if "&" not in text and "<" not in text and not _CONTROL.search(text):
        return text
    cleaned = _SGML_TAG.sub(" ", _REFERENCE.sub(_decoded, text))
    return _SPACES.sub(" ", _CONTROL.sub("", cleaned))


def without_controls(text: str) -> str:
    """Text without control characters (a link, which must keep its "&" as written)."""
    return _CONTROL.sub("", text)


def strip_title(title: str) -> str:
    """A title without markup, on one line."""
    return " ".join(strip_markup(title).split())


def _decoded(match: re.Match[str]) -> str:
    """One reference as its character; an SGML entity that stands for none as nothing."""
    decimal, hexadecimal, name = match.groups()
    if name is None:
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""
    known = html5.get(name + ";")
    if known is not None:
        return known
    # Two or more capitals unknown to HTML: a newspaper archive's own entity (&HT; &QL; &UR; &LR;). One
    # letter is more likely a company's name cut by a semicolon ("AT&T;").
    return _SGML_CHARACTERS.get(name, "") if name.isupper() and len(name) > 1 else match.group()


# Markdown, as a saved page or a notes export writes it: what each mark leaves of its text.
# A link's target: a url (which may hold one level of brackets, as Wikipedia's do) and an optional "title".
_MD_TARGET = r"\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"
_MD_IMAGE = re.compile(rf"!\[([^\]]*)\]{_MD_TARGET}")
_MD_LINK = re.compile(rf"\[([^\]]*)\]{_MD_TARGET}")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Escaped characters stand aside in the private-use area while the marks are read (ASCII punctuation only).
_HIDDEN = 0xE000
_HIDDEN_CHAR = re.compile("[\ue000-\ue07f]")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*])")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_LINE_MARK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|(?:>\s?)+|[-*+]\s+(?!\s))")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")


def _plain_inline(line: str) -> str:
    """A line's bold, italics and code marks gone; a code span's text is kept as written ("`__init__`")."""
    pieces = _MD_CODE.split(line)  # odd pieces are the text inside code spans
    return "".join(piece if n % 2 else _unemphasised(piece) for n, piece in enumerate(pieces))


def _unemphasised(text: str) -> str:
    """Text without bold and italic marks; an escaped character ("\\_") is the character itself, never a mark."""
    hidden = _MD_ESCAPE.sub(lambda m: chr(_HIDDEN + ord(m[1])), text)
    plain = _MD_EMPHASIS.sub(r"\2", _MD_STRONG.sub(r"\2", hidden))
    return _HIDDEN_CHAR.sub(lambda m: chr(ord(m[0]) - _HIDDEN), plain)


def plain_markdown(text: str) -> str:
    """Markdown as the text it shows: headings, quotes and list items without their marks, links as their words,
    images gone, bold, italics and code as plain words, a table's rows as their cells, rules and code fences as
    blank lines."""
    lines = []
    for line in plain_tables(text).splitlines():
        if _MD_RULE.match(line) or _MD_FENCE.match(line):
            lines.append("")
            continue
        line = _MD_LINE_MARK.sub("", line)
        line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line))  # images first: a linked image leaves no link text
        lines.append(_plain_inline(line))
    return "\n".join(lines)


def plain_tables(text: str) -> str:
    """A text whose pipe tables (a header row, a rule of dashes, rows) are read as their rows of cells joined by
    commas, the rule as a blank line: a row of pipes is otherwise taken for a menu."""
    lines = text.splitlines()
    rows = _table_rows(lines)
    if not rows:
        return text
    return "\n".join(_cells(line) if n in rows else line for n, line in enumerate(lines))


def _cells(row: str) -> str:
    """A table row as its cells joined by commas; the rule under the header as a blank line."""
    return "" if _MD_TABLE_RULE.match(row) else ", ".join(cell.strip() for cell in row.strip().strip("|").split("|"))


def _table_rows(lines: list[str]) -> set[int]:
    """The lines of a text that are rows of a Markdown table: those next to its header rule, and on from it."""
    rows: set[int] = set()
    for n, line in enumerate(lines):
        if _MD_TABLE_RULE.match(line) and n and "|" in lines[n - 1]:
            rows.update((n - 1, n))
            rows.update(itertools.takewhile(lambda i: "|" in lines[i], range(n + 1, len(lines))))
    return rows
