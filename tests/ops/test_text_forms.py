"""Issue 11 item 12: Unicode forms and scripts written without spaces.

Family: text that is canonically or visibly equal but differs in code points (NFC vs NFD,
NBSP and other Unicode spaces, zero-width and bidi format characters, control characters,
full-width forms), and text in scripts whose words are not separated by spaces (Chinese,
Japanese, Thai) or whose words carry combining marks (Devanagari). Exact dedup, MinHash
dedup and decontamination must see through the first and tokenise the second, with defaults.
"""

import json
import random
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.ops.decontam import NgramIndex, decontaminate, parse_against
from workbench.ops.dedup_exact import ExactParams, exact_dedup, normalise
from workbench.ops.hashing import canonical, word_tokens, words
from workbench.ops.minhash import minhash_dedup
from tests.support.synthetic import pair_scores, true_clusters

NFC = "Le café de Zoë est à côté de l’église, naïve idée."


def test_canonically_equal_texts_are_exact_duplicates():
    nfd = unicodedata.normalize("NFD", NFC)
    assert nfd != NFC
    variants = [
        NFC,
        nfd,
        NFC.replace(" ", "\u00a0", 3),  # NBSP
        NFC.replace(" ", "\u2009", 2),  # thin space
        NFC.replace("café", "ca\u200bfé").replace("idée", "id\u200dée"),  # zero-width space / joiner
        "\ufeff" + NFC + "\u200e",  # BOM, left-to-right mark
        NFC.replace("Zoë", "Zo\u0000ë"),  # a stray control character
        NFC.replace("Le", "Ｌｅ"),  # full-width letters (NFKC)
    ]
    c, = exact_dedup(variants + ["Le café de Zoé est à côté de l’église, naïve idée."])
    assert c.members == list(range(len(variants)))  # the é-for-ë row differs and stays out
    assert len({normalise(v) for v in variants}) == 1


def test_canonical_keeps_what_is_visible():
    assert canonical("a\tb\nc") == "a\tb\nc"  # whitespace controls stay (whitespace folding is separate)
    assert canonical("x\u00ady") == "xy"  # soft hyphen
    assert canonical(unicodedata.normalize("NFD", "é")) == "é"
    # Case and whitespace options still decide, after the canonical form.
    assert exact_dedup(["Café", unicodedata.normalize("NFD", "café")])
    assert not exact_dedup(["Café", unicodedata.normalize("NFD", "café")], ExactParams(case=False))


def test_combining_marks_do_not_split_words():
    nfd = unicodedata.normalize("NFD", NFC)
    assert words(nfd) == words(NFC)
    assert "naïve" in words(nfd) and "café" in words(nfd)
    assert words("हिन्दी भाषा सीखें") == ["हिन्दी", "भाषा", "सीखें"]  # vowel signs and virama stay inside
    h1, _ = word_tokens([NFC])
    h2, _ = word_tokens([nfd.replace(" ", "\u00a0")])
    assert h1.tolist() == h2.tolist()


def test_scripts_without_spaces_tokenise_by_character():
    assert words("我们今天去公园散步。") == list("我们今天去公园散步")
    assert words("コーヒーを飲む") == list("コーヒーを飲む")
    thai = words("ภาษาไทยง่าย")
    assert "".join(thai) == "ภาษาไทยง่าย" and "ง่" in thai  # a tone mark stays with its consonant
    # Mixed text: Latin words stay words, the ideographs become characters.
    assert words("使用Python 3编程") == ["使", "用", "python", "3", "编", "程"]


CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 600)]
THAI = [chr(c) for c in range(0x0E01, 0x0E2F)] + ["\u0e32", "\u0e33", "\u0e40", "\u0e41", "\u0e42"]


def _unspaced_doc(rng, alphabet, n, punct):
    out = []
    for i in range(n):
        out.append(rng.choice(alphabet))
        if i % rng.randint(8, 14) == 0 and punct:
            out.append(punct)
    return "".join(out)


def _perturbed(rng, doc, alphabet, fraction=0.1):
    chars = list(doc)
    for i in rng.sample(range(len(chars)), int(fraction * len(chars))):
        chars[i] = rng.choice(alphabet)
    return "".join(chars)


def _corpus(alphabet, punct, seed, n=300, dups=30):
    rng = random.Random(seed)
    texts = [_unspaced_doc(rng, alphabet, rng.randint(120, 260), punct) for _ in range(n)]
    pairs = []
    for copy in rng.sample(range(n), dups):
        src = rng.randrange(n)
        if src == copy or any(copy in p or src in p for p in pairs):
            continue
        texts[copy] = _perturbed(rng, texts[src], alphabet)
        pairs.append((min(src, copy), max(src, copy)))
    return texts, pairs


def test_minhash_defaults_find_chinese_and_thai_near_duplicates():
    for alphabet, punct, seed in ((CJK, "，", 1), (THAI, " ", 2)):
        texts, pairs = _corpus(alphabet, punct, seed)
        assert len(pairs) >= 20
        clusters, _ = minhash_dedup(texts)
        p, r = pair_scores([c.members for c in clusters], true_clusters(len(texts), pairs))
        assert p >= 0.95 and r >= 0.95, (alphabet[0], p, r)


def test_decontam_defaults_find_japanese_and_chinese_items(tmp_path):
    rng = random.Random(4)
    kana = [chr(c) for c in range(0x3041, 0x3094)] + CJK[:200]
    items = [{"id": f"j{i}", "question": _unspaced_doc(rng, kana, 40, "、")} for i in range(50)]
    items += [{"id": f"c{i}", "question": _unspaced_doc(rng, CJK, 40, "，")} for i in range(50)]
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items))
    texts = [_unspaced_doc(rng, kana if i % 2 else CJK, 200, "。") for i in range(200)]
    planted = {}
    for row in rng.sample(range(200), 20):
        it = items[rng.randrange(len(items))]
        piece = it["question"][5:25]  # 20 characters of the item, in the middle of the row
        texts[row] = texts[row][:80] + piece + texts[row][80:]
        planted[f"r{row}"] = it["id"]
    index = NgramIndex([parse_against(f"{path}:question")])
    res = decontaminate(texts, [f"r{i}" for i in range(200)], index)
    got = {h["row"]: h["item"] for h in res.report["hits"]}
    assert got == planted
    assert all(h["rule"] == "ngram" and len(h["ngram"].split()) == 13 for h in res.report["hits"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \t\n\x0b\x0c\r\x1c\x1f\x00\x01\x7f\xa0\u200baAzZ09.,!$_~é", max_size=12), max_size=30),
       st.booleans(), st.booleans(), st.booleans())
def test_chunk_keys_of_ascii_rows_equal_the_one_by_one_keys(xs, case, whitespace, punctuation):
    # ASCII rows take the joined-bytes path, the others normalise() one by one: the same keys.
    from workbench.ops.dedup_exact import _ascii_table, _chunk_keys, _key

    p = ExactParams(case=case, whitespace=whitespace, punctuation=punctuation)
    want = []
    for t in xs:
        norm = normalise(t, case=case, whitespace=whitespace, punctuation=punctuation)
        want.append(_key(norm) if norm else None)
    assert _chunk_keys(xs, p, _ascii_table(p)) == want
