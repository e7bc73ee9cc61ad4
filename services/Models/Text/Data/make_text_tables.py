"""Regenerates the data tables under services/Models/Text/Data from the reference Python libraries.

Run with CPython 3.11 (Unicode 14.0.0, the version the CLIP golden data was made with) and ftfy 6.1.1 importable:
    PYTHONPATH=/path/to/ftfy-6.1.1 python3 make_text_tables.py
Only data is written (no logic): the C# side ports the algorithms.
"""
import html.entities
import json
import os
import sys
import unicodedata

import ftfy
from ftfy import badness, chardata

assert sys.version_info[:2] == (3, 11), "use CPython 3.11 (Unicode 14) like the golden generator"
assert ftfy.__version__ == "6.1.1"
HERE = os.path.dirname(os.path.abspath(__file__))


def ranges(predicate):
    out, start = [], None
    for cp in range(0x110000 + 1):
        inside = cp < 0x110000 and predicate(cp)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            out.append([start, cp - 1])
            start = None
    return out


def html_tables():
    # html.entities.html5 (what html.unescape uses) and the extra all-caps names ftfy's unescape_html accepts.
    uppercase = {k: v for k, v in chardata.HTML_ENTITIES.items() if k[1:] not in html.entities.html5}
    return {"html5": html.entities.html5, "ftfyUppercase": uppercase}


def unicode_tables():
    ccc, decomp, compose, lower = [], [], [], []
    for cp in range(0x110000):
        ch = chr(cp)
        c = unicodedata.combining(ch)
        if c:
            ccc.append([cp, c])
        d = unicodedata.decomposition(ch)
        if d and not d.startswith("<"):
            parts = [int(p, 16) for p in d.split()]
            decomp.append([cp] + parts)
            # A primary composite: NFC of its own two-part decomposition gives it back (excludes singletons,
            # non-starter decompositions and the CompositionExclusions list).
            if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == ch:
                compose.append(parts + [cp])
        lo = ch.lower()
        if lo != ch:
            lower.append([cp] + [ord(x) for x in lo])
    cased = ranges(lambda cp: chr(cp).islower() or chr(cp).isupper() or chr(cp).istitle())
    # Case_Ignorable as CPython's str.lower() sees it for the Final_Sigma rule: skipped between a cased letter and
    # a final capital sigma, and not itself cased.
    case_ignorable = ranges(lambda cp: ("A" + chr(cp) + "\u03a3").lower()[-1] == "\u03c2"
                            and ("1" + chr(cp) + "\u03a3").lower()[-1] == "\u03c3")
    return {
        "unicodeVersion": unicodedata.unidata_version,
        "combiningClass": ccc,
        "canonicalDecomposition": decomp,
        "primaryComposites": compose,
        "lowercase": lower,
        "cased": cased,
        "caseIgnorable": case_ignorable,
    }


def class_ranges(regex_class):
    """A regex character-class body as used by ftfy ('a-z' ranges and literal characters) -> [[first, last], ...]."""
    out, i = [], 0
    while i < len(regex_class):
        if i + 2 < len(regex_class) and regex_class[i + 1] == "-":
            out.append([ord(regex_class[i]), ord(regex_class[i + 2])])
            i += 3
        else:
            out.append([ord(regex_class[i]), ord(regex_class[i])])
            i += 1
    return out


def ftfy_tables():
    codecs = {}
    for name in chardata.CHARMAP_ENCODINGS:
        # what bytes 0x80..0xFF and then 0x1A decode to (the sloppy codecs decode 0x1A as U+FFFD)
        codecs[name] = [ord(c) for c in bytes(list(range(0x80, 0x100)) + [0x1A]).decode(name)]
    return {
        "singleByteEncodings": codecs,
        "encodingOrder": chardata.CHARMAP_ENCODINGS,
        # character classes of ftfy.badness.MOJIBAKE_CATEGORIES and ftfy.chardata.UTF8_CLUES
        "mojibakeCategories": {k: class_ranges(v) for k, v in badness.MOJIBAKE_CATEGORIES.items()},
        "utf8Clues": {k: class_ranges(v) for k, v in chardata.UTF8_CLUES.items()},
        "widthMap": [[cp, [ord(c) for c in s]] for cp, s in sorted(chardata.WIDTH_MAP.items())],
    }


def write(name, obj):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")


write("html5-entities.json", html_tables())
write("unicode-14-tables.json", unicode_tables())
write("ftfy-6.1.1-tables.json", ftfy_tables())
