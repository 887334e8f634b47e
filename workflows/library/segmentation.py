"""Chinese word segmentation for the library's full-text search (jieba, search mode).

Neither SQLite's unicode61 tokenizer nor PostgreSQL's ``simple`` configuration can split Chinese
into words: each would treat a run of 汉字 as one token. So text is segmented here, with the same
tokenizer at index time and at query time, and the database indexes the space-joined words.
Search mode (``cut_for_search``) also emits the shorter words inside long ones, so a query word
matches a document whether jieba kept the compound or not.

jieba's dictionary ships in its wheel; it is loaded once per process (about half a second), quietly
and with no network. Its cache file lives in the temp folder, as jieba does by default.
"""

from __future__ import annotations

import logging
import threading

import jieba

# Words of the field that jieba's general dictionary splits or lacks; adding them keeps 中班/大班 whole.
FIELD_WORDS = ("小班", "中班", "大班", "混龄", "幼教", "送教", "跟岗", "课例", "教研", "教案", "联盟", "龙头园")
# Indexed text is capped: a tsvector holds at most 1 MB, and no lesson plan needs more.
MAX_INDEXED_CHARS = 200_000

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _get_tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in FIELD_WORDS:
                tokenizer.add_word(word)
            _tokenizer = tokenizer
        return _tokenizer


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def words(text: str) -> list[str]:
    """The search-mode words of ``text`` in order, lower-cased, without punctuation or spaces."""
    tokenizer = _get_tokenizer()
    return [t.lower() for t in (w.strip() for w in tokenizer.cut_for_search(text[:MAX_INDEXED_CHARS])) if _is_word(t)]


def index_text(*parts: str) -> str:
    """What the database indexes for a document made of ``parts``: its words joined by spaces."""
    return " ".join(w for part in parts if part for w in words(part))


def query_words(query: str) -> list[str]:
    """The distinct words of a search query, in order; every one must match."""
    return list(dict.fromkeys(words(query)))
