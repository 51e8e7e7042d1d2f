"""semsearch: ask a news archive a question, get cited passages and a quoted brief."""

__version__ = "0.1.0"
