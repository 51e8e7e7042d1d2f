"""Markup that survived a reader: entity references and SGML tags left in titles and bodies.

Wire and newspaper archives come as SGML whose private entities no reader knows (`&HT;` for a tab,
`&MD;` for a dash, `&QL;` for a typesetting quad), as text still holding HTML references (`&lt;`,
`&#3;` in Reuters-21578), or with structural tags pasted into the text (`<TEXT>`, `<P>`). Left in, they
show in titles, split words and count as words in the brief, so every reader's output passes through here.
"""

from __future__ import annotations

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
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*])")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_LINE_MARK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|(?:>\s?)+|[-*+]\s+(?!\s))")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")


def plain_markdown(text: str) -> str:
    """Markdown as the text it shows: headings, quotes and list items without their marks, links as their words,
    images gone, bold, italics and code as plain words, rules as blank lines."""
    lines = []
    for line in text.splitlines():
        if _MD_RULE.match(line):
            lines.append("")
            continue
        line = _MD_LINE_MARK.sub("", line)
        line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line))
        line = _MD_CODE.sub(r"\1", _MD_EMPHASIS.sub(r"\2", _MD_STRONG.sub(r"\2", line)))
        lines.append(line)
    return "\n".join(lines)
