"""What the catalog index holds and how a query becomes its terms (CAT-11).

SQLite FTS5's trigram tokenizer and PostgreSQL's pg_trgm need three characters, so a
two-character word (人口, 社保) could not use their index. Instead each resource's text is indexed as
overlapping character bigrams of its Chinese runs plus its single Chinese characters and its Latin
words, the way Lucene's CJK analyzer does: "人口基础信息" → 人口 口基 基础 础信 信息 人 口 基 础 信 息. A query
term becomes the phrase of its bigrams (adjacent, in order), so "人口信息" does not match a text
that merely holds 人口 and 信息 apart.

SQLite's FTS5 keeps positions and answers the phrase itself. PostgreSQL's index holds no positions
(a ``<->`` query is rechecked by reading every candidate's document, which made a common phrase
take a minute at a million resources); there each pair of adjacent bigrams is also indexed as the
trigram it spells (人口 口基 → 人口基), and a phrase is the AND of its trigrams: exact for words of up to
three characters, and for longer ones it asks that every three consecutive characters occur.

Synonyms come from the data element dictionary (CAT-4): a query word that is an element's name or
one of its synonyms matches any of them (身份证号 finds 公民身份号码), as an OR of the alternatives'
phrases, read from the dictionary at query time so that an edited dictionary needs no re-indexing.
Classification names (人口, 法人单位, 社会保障; not the top classes' 基础/主题/部门信息资源, which every
resource would share) are indexed with each resource, so that 人口 finds every resource of class 101
whatever its name.

Words are NFKC-normalised and lower-cased (ＡＢＣ = abc). Anything that is neither a Chinese run nor a
Latin/digit word (quotes, ``*``, ``-``, ``:``, emoji, SQL) only separates words, so a query never
carries index syntax; a query with text but no searchable word finds nothing. Words are ANDed. The
name's grams are indexed a second time as marked twins (x人口, 名gis), so that "in the name" (the
first rank of relevance) is an index query too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog.models import Classification, DataElement, Resource

# Chinese runs (CJK Unified Ideographs, Extension A, compatibility ideographs) or Latin/digit words.
# U+4DC0–4DFF (Yijing hexagram symbols) sits between Extension A and the unified block: not letters.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]+|[0-9a-z]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
# More words than anyone types; bounds the work a long hostile query can cause.
MAX_WORDS = 16
_NAME_MARK_CJK = "x"
_NAME_MARK_WORD = "名"

# A query word as the phrases that may stand for it: itself first, then its synonyms.
Alternatives = list[list[str]]
MAX_ALTERNATIVES = 8


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def _is_cjk(token: str) -> bool:
    return bool(_CJK_CHAR.match(token))


def grams(value: str) -> list[str]:
    """Index tokens of a text: bigrams of each Chinese run, then its single characters, Latin words."""
    out: list[str] = []
    singles: list[str] = []
    for run in _TOKEN.findall(_normalise(value)):
        if _is_cjk(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            singles.extend(run)
        else:
            out.append(run)
    return out + singles


def name_token(token: str) -> str:
    """The token's twin that marks it as part of the resource's name: x人口, 名gis.

    A Latin letter glued to Chinese characters (or a Chinese character glued to a Latin word) is one
    token to FTS5 and to PostgreSQL's parser, yet no text or query ever yields one, since grams()
    splits Chinese runs from Latin words; so these twins match only what was indexed as a name.
    """
    return (_NAME_MARK_CJK if _is_cjk(token) else _NAME_MARK_WORD) + token


def words(q: str | None) -> list[str]:
    """The searchable words of a query: normalised Chinese runs and Latin/digit words."""
    return _TOKEN.findall(_normalise(q))[:MAX_WORDS] if q else []


def _phrase(word: str) -> list[str]:
    if _is_cjk(word) and len(word) > 1:
        return [word[i : i + 2] for i in range(len(word) - 1)]
    return [word]


def synonym_groups(session: Session) -> dict[str, list[str]]:
    """Each searchable form of a data element (its name, its synonyms) → every form of that element,
    itself first: 身份证号 → 身份证号, 公民身份号码, 身份证号码 … Forms that are not one word are left out."""
    groups: dict[str, list[str]] = {}
    for name, synonyms in session.execute(select(DataElement.name, DataElement.synonyms)):
        forms: list[str] = []
        for form in [name, *(synonyms or [])]:
            found = words(form) if isinstance(form, str) else []
            if len(found) == 1 and found[0] not in forms:
                forms.append(found[0])
        for form in forms:
            known = groups.setdefault(form, [form])
            known.extend(f for f in forms if f not in known)
    return groups


def alternatives(found: list[str], groups: dict[str, list[str]]) -> list[Alternatives]:
    return [[_phrase(form) for form in groups.get(word, [word])[:MAX_ALTERNATIVES]] for word in found]


def named(phrases: list[Alternatives]) -> list[Alternatives]:
    """The same words, asked of the name's marked twins."""
    return [[[name_token(token) for token in phrase] for phrase in alts] for alts in phrases]


def index_text(resource: Resource, body: dict[str, Any], classification_names: tuple[str, ...] = ()) -> str:
    """The indexed text of a resource: its name's marked twins, then the grams of its name, summary,
    code, provider, items and the names of its classification and the classes above it."""
    parts = [
        body.get("name", ""),
        body.get("summary", ""),
        resource.code.replace("/", " "),
        resource.provider.name if resource.provider else "",
    ]
    for item in body.get("items", []):
        parts += [item.get("name", ""), item.get("code", ""), item.get("element") or ""]
    parts += classification_names
    twins = [name_token(token) for token in grams(body.get("name", ""))]
    return " ".join(twins + grams(" ".join(parts)))


def classification_names(session: Session, code: str | None) -> tuple[str, ...]:
    """The names of a classification and of the classes above it (CAT-1a), but for the three top
    classes (基础/主题/部门信息资源), whose words every resource would share: 10101 → its own name, 人口."""
    names: list[str] = []
    seen: set[str] = set()
    while code and len(code) > 1 and code not in seen:
        seen.add(code)
        found = session.get(Classification, code)
        if found is None:
            break
        names.append(found.name)
        code = found.parent_code
    return tuple(names)


# --- the two index languages ------------------------------------------------------------------------


def _bigram(token: str) -> tuple[str, str] | None:
    """(mark, bigram) of a Chinese bigram or of its name twin (x人口 → x, 人口); None for other tokens."""
    mark, core = (token[0], token[1:]) if token[:1] == _NAME_MARK_CJK else ("", token)
    return (mark, core) if len(core) == 2 and _is_cjk(core) else None


def lexemes(document: str) -> list[str]:
    """PostgreSQL's terms of an indexed text: its distinct tokens, and the trigram each two adjacent
    bigrams spell (人口 口基 → 人口基; x人口 x口基 → x人口基)."""
    tokens = document.split()
    out = set(tokens)
    pairs = [_bigram(token) for token in tokens]
    for first, second in zip(pairs, pairs[1:], strict=False):
        if first and second and first[0] == second[0] and first[1][1] == second[1][0]:
            out.add(first[0] + first[1] + second[1][1])
    return sorted(out)


def _trigrams(phrase: list[str]) -> list[str]:
    """PostgreSQL's terms of a phrase: its bigram, or the trigrams of its adjacent bigrams."""
    if len(phrase) == 1:
        return phrase
    return [first + second[-1] for first, second in zip(phrase, phrase[1:], strict=False)]


def tsquery(phrases: list[Alternatives]) -> str:
    """A ``tsquery`` for rows holding, for every word, one of its phrases. Terms are letters, digits
    and Chinese only (and the name marks), so quoting them cannot go wrong."""
    parts = []
    for alts in phrases:
        each = ["(" + " & ".join(f"'{term}'" for term in sorted(set(_trigrams(p)))) + ")" for p in alts]
        parts.append(each[0] if len(each) == 1 else "(" + " | ".join(each) + ")")
    return " & ".join(parts)


def fts5(phrases: list[Alternatives]) -> str:
    """An FTS5 query for rows holding, for every word, one of its phrases (adjacent, in order)."""
    parts = []
    for alts in phrases:
        quoted = ['"' + " ".join(phrase) + '"' for phrase in alts]
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    return " AND ".join(parts)
