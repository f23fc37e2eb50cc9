"""Full-text search's language: which one (FLOWDESK_SEARCH_LANGUAGE), words reduced to their stems the same way
on both databases' sides, and what a search box's text becomes for SQLite's FTS5.

PostgreSQL stems with its own text search configuration of that name (english, french). SQLite has no French
stemmer, so the same Snowball stemmers stem the indexed text (through the SQL function flowdesk_stems, which
every SQLite connection of the app is given) and the words searched. A search box's text is read as people
type it into a web search (websearch_to_tsquery on PostgreSQL): words in any order, "a phrase" in quotes,
`or` between alternatives, -word to leave out; anything else is a word, never an operator.
"""

import os
import re
import unicodedata
from functools import lru_cache

import snowballstemmer

LANGUAGES = ("english", "french", "german", "spanish", "italian", "dutch", "portuguese", "simple")
_WORD = re.compile(r"\w+", re.UNICODE)
# A search's parts: "a phrase", or a word with its leading minus (an empty phrase is no part).
_PART = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')
MAX_TERMS = 32  # a search box's text beyond that many words is cut (5,000 characters are just a long search)


def language() -> str:
    """The language tickets are indexed and searched in: FLOWDESK_SEARCH_LANGUAGE, english by default."""
    name = os.environ.get("FLOWDESK_SEARCH_LANGUAGE", "english").strip().lower()
    if name not in LANGUAGES:
        raise ValueError(f"FLOWDESK_SEARCH_LANGUAGE is {name!r}: choose one of {', '.join(LANGUAGES)}")
    return name


@lru_cache(maxsize=8)
def _stemmer(name: str):
    return None if name == "simple" else snowballstemmer.stemmer(name)


def _fold(word: str) -> str:
    """Lower case without accents, as FTS5's unicode61 tokenizer (remove_diacritics 2) folds what it indexes."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def stems(text: str | None, name: str | None = None) -> list[str]:
    """The words of text reduced to their stems: "Printers jammed" -> ["printer", "jam"]."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    stemmer = _stemmer(name or language())
    found = stemmer.stemWords(words) if stemmer else words
    return [_fold(w) for w in found]


def stemmed_text(text: str | None) -> str:
    """What SQLite indexes for text: its stems, separated by spaces (the SQL function flowdesk_stems)."""
    return " ".join(stems(text))


def register_sqlite_functions(dbapi_connection) -> None:
    """Give a SQLite connection flowdesk_stems, which the search index's triggers call on every write."""
    dbapi_connection.create_function("flowdesk_stems", 1, stemmed_text, deterministic=True)


def fts5_query(text: str) -> str | None:
    """A search box's text as an FTS5 query, every term quoted (no input is an FTS5 operator); None when the
    text holds no word to search for."""
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for minus_phrase, phrase, minus_word, word in _PART.findall(text[:5000]):
        if word.lower() == "or" and not minus_word:
            pending_or = bool(positive)
            continue
        term = _fts5_term(phrase if phrase or minus_phrase else word)
        if term is None:
            continue
        if minus_phrase or minus_word:
            negative.append(term)
        elif pending_or:
            positive[-1] = f"{positive[-1]} OR {term}"
        else:
            positive.append(term)
        pending_or = False
        if len(positive) + len(negative) >= MAX_TERMS:
            break
    if not positive:
        return None
    query = " AND ".join(f"({p})" for p in positive)
    return query + "".join(f" NOT {n}" for n in negative)


def _fts5_term(text: str) -> str | None:
    words = stems(text)
    return '"' + " ".join(words) + '"' if words else None
