"""JSON text of the Arrow cache's nested columns: orjson where it is exact, else the standard library.

orjson is several times faster both ways, but it writes NaN and infinities as null, cannot
write integers beyond 64 bits, and reads such integers back as floats. A value it cannot
write exactly is written by the standard library behind a mark, and read back by it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

STDLIB = "~"  # not valid JSON, so orjson never reads what follows
_std_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps builds one per call


def dumps(value: Any) -> str:
    try:
        text = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, a key that is not a string
        return STDLIB + _std_encode(value)
    if b"null" in text:  # maybe a NaN orjson wrote as null (or only a null, or the word in a string)
        return STDLIB + _std_encode(value)
    return text.decode()


def loads(text: str) -> Any:
    if text[:1] == STDLIB:
        return json.loads(text[1:])
    return orjson.loads(text)
