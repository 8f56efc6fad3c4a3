"""QueryError construction with positions a person can find in their query.

Every message ends with `at position N (line L, column C)`: N is the 0-based character offset
(what tools and the HTTP layer use), line and column are 1-based (what an editor shows).
"""

from __future__ import annotations

from cms_client.errors import QueryError


def describe_position(query: str, position: int) -> str:
    line = query.count("\n", 0, position) + 1
    line_start = query.rfind("\n", 0, position) + 1
    column = position - line_start + 1
    return f"at position {position} (line {line}, column {column})"


def syntax_error(query: str, position: int, message: str) -> QueryError:
    return QueryError(
        f"GROQ syntax error: {message} {describe_position(query, position)}",
        query=query,
        position=position,
    )


def unsupported(query: str, position: int, construct: str, what: str) -> QueryError:
    """A construct that is valid GROQ but outside the subset this engine answers."""
    return QueryError(
        f"unsupported GROQ construct '{construct}' ({what}) {describe_position(query, position)}",
        query=query,
        position=position,
        construct=construct,
    )


def invalid(query: str, position: int, message: str) -> QueryError:
    """A well-formed query that GROQ itself rejects (bad arity, missing parameter, ...)."""
    return QueryError(
        f"invalid GROQ query: {message} {describe_position(query, position)}",
        query=query,
        position=position,
    )
