"""Hostile text from the book: names that would run, or break a map's script, if pasted unescaped."""

HOSTILE_TEXTS = (
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
    "${alert(1)}",
    "`",
    "{{7*7}}",
    "javascript:alert(1)",
    "C:\\users\\x",
)
"""HTML, attribute, script-closing, template-literal, template-engine, URL and backslash payloads."""
