"""Escape text from the book for the context it lands in: HTML, JavaScript, template literals, Markdown.

Every name, city, street or note is untrusted. Map builders and pages pass such text
through exactly one of these helpers, chosen by where it ends up:

========================  ==========================================================
:func:`html_text`         HTML text, and attribute values in double or single quotes
:func:`js_string`         a JavaScript string literal (quotes included), even inside
                          a ``<script>`` element, a template literal or a folium map
:func:`template_literal`  HTML that a folium map shows: ``Tooltip`` and ``Popup`` text
                          (pasted into a JavaScript template literal, `` `…` ``),
                          ``DivIcon`` labels, GeoJSON properties, legend labels
:func:`markdown_text`     Streamlit Markdown (``st.markdown``, captions, alerts, labels)
========================  ==========================================================

``html.escape`` alone is not enough inside a template literal: a backtick ends it,
``${`` runs code, and a backslash starts an escape sequence (``\\u`` without hex digits
is a syntax error that blanks the whole map). Nor in anything folium renders: it renders
each element's script through Jinja, and the whole figure a second time (``st_folium``
does so on every run), so ``{{ … }}`` or ``{% … %}`` in a name would run as a template on
the server. Both folium contexts therefore also escape ``{`` and ``}``.
"""

from __future__ import annotations

import html
import json
import re

TEMPLATE_ENTITIES = {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
"""Characters a template literal (or a later template pass) would read, as HTML entities."""
JS_STRING_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "`": "\\u0060",
    "$": "\\u0024",
    "{": "\\u007b",
    "}": "\\u007d",
}
"""Characters of a JSON string that would end a ``<script>`` element or matter to an enclosing template."""
_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]()<>!|~:$&])")
"""Characters Markdown (with Streamlit's math, colour and icon directives) reads anywhere in a line."""
_MARKDOWN_BLOCK = re.compile(r"^(\s*)([#+\-=])")
"""A heading, list or rule marker at the start of the text (``* > ) [`` are escaped anywhere)."""
_MARKDOWN_ORDERED = re.compile(r"^(\s*\d+)\.")
"""An ordered-list marker at the start of the text."""
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def html_text(value: object) -> str:
    """Escape text for HTML content or a quoted attribute value.

    Parameters
    ----------
    value
        Any value; converted with ``str``.

    Returns
    -------
    str
        The text with ``& < > " '`` as character references.
    """
    return html.escape(str(value), quote=True)


def js_string(value: object) -> str:
    """Quote text as a JavaScript string literal that is safe anywhere a script holds an expression.

    Parameters
    ----------
    value
        Any value; converted with ``str``.

    Returns
    -------
    str
        A double-quoted literal (JSON, ASCII only) in which ``< > & ' ` $ { }`` are ``\\u``
        escapes, so it can neither close a ``<script>`` element nor open a substitution
        or a Jinja expression.
    """
    quoted = json.dumps(str(value), ensure_ascii=True)
    return "".join(JS_STRING_ESCAPES.get(char, char) for char in quoted)


def template_literal(value: object) -> str:
    """Escape text for HTML that a folium map shows, such as a ``Tooltip`` (a JavaScript template literal).

    Parameters
    ----------
    value
        Any value; converted with ``str``.

    Returns
    -------
    str
        :func:`html_text`, with `` ` $ \\ { } `` also as character references: the literal
        holds plain characters only, and the browser shows the original text.
    """
    return "".join(TEMPLATE_ENTITIES.get(char, char) for char in html_text(value))


def markdown_text(value: object) -> str:
    """Escape text for Streamlit Markdown so it shows as typed, on one line.

    Parameters
    ----------
    value
        Any value; converted with ``str``.

    Returns
    -------
    str
        The text with every inline Markdown, HTML, math (``$``) and directive (``:``)
        character backslash-escaped, a heading, list or rule marker at its start too, and
        line breaks as spaces.
    """
    inline = _MARKDOWN_INLINE.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))
    return _MARKDOWN_ORDERED.sub(r"\1\\.", _MARKDOWN_BLOCK.sub(r"\1\\\2", inline))
