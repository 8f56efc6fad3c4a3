"""GROQ subset engine for the embedded lake.

`parse` turns a query into a `GroqQuery`, or raises `QueryError` (a `BadRequest`) naming
the construct and its position; `evaluate` runs it over a `DocumentSource` with JSON
parameters and an injected `now`, and returns a JSON-ready value.

Covered: `*`, `@`, `^`, `$params`, literals (with `...` in arrays and objects), attribute
and element access, `[]`, filters, slices `[a..b]`/`[a...b]`, projections (renames, `...`,
`cond => {...}`), `| order(a asc, b desc)`, `== != < <= > >= && || ! in` (arrays, ranges,
`path()`), `+ - * / % **`, and the functions `count defined coalesce select dateTime now
dateTime::now path lower upper references string::startsWith` with datetime arithmetic in
seconds. Refused with `QueryError`: `->`, `match`, `score`/`boost`, delta mode (`before`,
`after`, `operation`, `delta::*`), other namespaces (`pt::`, `geo::`, `math::`, `array::`,
...), unknown functions, custom `fn` declarations and tuples.
"""

from cms_client.groq.query import GroqQuery, evaluate, parse
from cms_client.groq.source import DocumentSource, ListSource

__all__ = ["DocumentSource", "GroqQuery", "ListSource", "evaluate", "parse"]
