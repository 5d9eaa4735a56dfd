"""Writes the text-tokenizer parity fixtures of the Swift tests (Tests/ZipARTests/Fixtures/tokenizer/).

- `tokenizer.json`: a Janus-shaped byte-level BPE (janus_tokenizer.train_tokenizer) trained on a generated
  mixed corpus; `cases.json`: {"cases": [{"text", "ids"}]} with the ids of `tok.encode(text).ids` (BOS
  included) for a parity corpus of over 2,000 strings.
- `variant_tokenizer.json` / `variant_cases.json`: the same trained model in another common shape, to cover
  what Janus does not use: NFC normalizer, Split with String patterns and the other behaviors (merged with
  next / previous, contiguous, removed, inverted), `^`, `.` and `$` in a regex, Digits(individual_digits=False), ByteLevel with the GPT-2 regex and
  add_prefix_space, merges written as "a b" strings, added tokens with lstrip / rstrip / single_word, and a
  ByteLevel post-processor (no BOS).

Run: tools/.venv/bin/python tools/janus/make_tokenizer_fixture.py [--output DIR]. Deterministic.
"""

import argparse
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers, processors

from janus_tokenizer import ROLE_TOKENS, SPECIAL_TOKENS, train_tokenizer

WORDS = ("the a red fox in snow portrait of young girl masterpiece film grained best quality photo astronaut "
         "riding horse on moon quick brown jumps over lazy dog it's don't we'll I'm they've she'd HTTP URL "
         "camelCase snake_case x y z naïve café résumé façade Ångström über straße São Paulo").split()
PUNCT = ["!", "!!!", "?", "?!", "...", ",", ";", ":", "--", "-", "(", ")", "[x]", "{}", "\"q\"", "'", "#", "@",
         "$5", "%", "&&", "||", "->", "=>", "/", "\\", "~", "`code`", "<", ">", "<>", "|", "«»", "“quoted”", "…"]
CJK = ["你好", "世界", "这是一个测试", "图像生成", "红色的狐狸", "雪", "日本語", "テキスト", "カタカナ", "ひらがな", "漢字"]
HANGUL = ["한국어", "텍스트", "입니다", "안녕하세요", "눈 속의 붉은 여우"]
OTHER = ["Россия", "Українa", "Ελληνικά", "مرحبا", "שלום", "हिन्दी", "ภาษาไทย", "Tiếng Việt", "ქართული", "Հայերեն",
         "𐐀𐐨𐐶", "ℌ𝔢𝔩𝔩𝔬", "ﬁne", "Ｆｕｌｌｗｉｄｔｈ"]
EMOJI = ["😀", "👍🏽", "🇺🇸", "🇯🇵", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🧑🏿‍💻", "✨", "🦊", "❄️", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "A\u030a", "o\u0302\u0323", "\u0301", "z\u0335\u0336", "i\u0307"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2028",
          "\u000b", "\u000c", "\u0085", "\u2003", " \t \n"]
NUMBERS = ["0", "7", "42", "2024", "3.14159", "1,000,000", "12345678901234567890", "-17", "1e10", "0x1F", "٣٤٥",
           "１２３", "²", "½", "Ⅻ", "①", "v1.2.3", "abc123def"]
ALL_SPECIAL = SPECIAL_TOKENS + ROLE_TOKENS


def piece(rng: random.Random) -> str:
    """One random fragment from a random category."""
    pools = [WORDS] * 6 + [PUNCT, CJK, HANGUL, OTHER, EMOJI, COMBINING, SPACES, NUMBERS] * 2
    pool = rng.choice(pools)
    return rng.choice(pool)


def mixed(rng: random.Random, n: int) -> str:
    """`n` fragments joined by spaces or nothing, like free text."""
    out = []
    for _ in range(n):
        out.append(piece(rng))
        out.append(rng.choice([" ", " ", " ", "", "", "\n", ", "]))
    return "".join(out[:-1])


def training_corpus() -> list[str]:
    """Mixed free text plus Janus prompts, for training the fixture's merges."""
    rng = random.Random(1)
    texts = [mixed(rng, rng.randint(3, 30)) for _ in range(6000)]
    return texts + [f"<|User|>: {mixed(rng, 6)}\n\n<|Assistant|>:" for _ in range(200)]


def parity_corpus() -> list[str]:
    """Over 2,000 distinct strings covering the cases listed in the issue (see the module doc)."""
    rng = random.Random(2)
    cases = ["", " ", "\n", "\r\n", "\t", "a", "A", "0", "  trailing  ", "trailing   ", "\n\n\n", " \r\n \r\n",
             "<|User|>: a red fox\n\n<|Assistant|>:<begin_of_image>",
             "<|User|>: A portrait of young girl. masterpiece, film grained, best quality.\n\n<|Assistant|>:<begin_of_image>",
             "a<begin_of_image>b", "<|User|>: hi", "<|User|><|Assistant|>", "<begin_of_image><end_of_image>",
             "<begin_of_image", "begin_of_image>", "<|User|", "<｜begin▁of▁sentence｜>hello", "x<｜▁pad▁｜>y",
             " <image_placeholder> ", "<<|User|>>", "<|User|>\n", "\n<|Assistant|>"]
    cases += ALL_SPECIAL + [t + t for t in ALL_SPECIAL] + [f" {t} " for t in ALL_SPECIAL]
    pools = [WORDS, PUNCT, CJK, HANGUL, OTHER, EMOJI, COMBINING, SPACES, NUMBERS]
    for pool in pools:
        cases += pool
        cases += [rng.choice(pool) + rng.choice(pool) for _ in range(40)]
        cases += [" ".join(rng.choice(pool) for _ in range(rng.randint(2, 8))) for _ in range(40)]
    cases += ["".join(rng.choice(PUNCT) for _ in range(rng.randint(2, 12))) for _ in range(60)]
    cases += ["".join(rng.choice("0123456789") for _ in range(rng.randint(5, 80))) for _ in range(40)]
    cases += ["".join(rng.choice(SPACES) for _ in range(rng.randint(2, 10))) + rng.choice(WORDS) +
              "".join(rng.choice(SPACES) for _ in range(rng.randint(0, 6))) for _ in range(60)]
    cases += [mixed(rng, rng.randint(1, 40)) for _ in range(900)]
    cases += [mixed(rng, 3) + rng.choice(ALL_SPECIAL) + mixed(rng, 3) for _ in range(150)]
    cases += [f"<|User|>: {mixed(rng, rng.randint(1, 12))}\n\n<|Assistant|>:<begin_of_image>" for _ in range(100)]
    cases += ["".join(rng.choice("abcdefghij") for _ in range(n)) for n in (1000, 1500, 3000)]
    cases += ["x" * 1200, "ab" * 700, "你" * 1100, "😀" * 300, "9" * 1100, " " * 1100, "é" * 600 + "e\u0301" * 600]
    seen, unique = set(), []
    for text in cases:
        if text not in seen:
            seen.add(text)
            unique.append(text)
    return unique


def variant(tok: Tokenizer) -> Tokenizer:
    """The trained model under another common pipeline (see the module doc)."""
    out = Tokenizer.from_str(tok.to_str())
    out.normalizer = normalizers.Sequence([normalizers.NFC()])
    out.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(",", "merged_with_next"),
        pre_tokenizers.Split("!", "merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\."), "contiguous"),
        pre_tokenizers.Split(Regex(r"\t"), "removed"),
        pre_tokenizers.Split(Regex(r"[^q]+"), "removed", invert=True),
        pre_tokenizers.Split(Regex(r"^ +|.$"), "isolated"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
    ])
    out.post_processor = processors.ByteLevel(trim_offsets=True)
    out.add_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False),
                    AddedToken("[end]", rstrip=True, normalized=False),
                    AddedToken("word", single_word=True, normalized=True),
                    AddedToken("Ω", normalized=True)])
    return out


def write(tok: Tokenizer, texts: list[str], directory: str, prefix: str, string_merges: bool = False) -> None:
    """Saves `tok` and its ids for `texts`; `string_merges` writes merges in the older "a b" form."""
    data = json.loads(tok.to_str())
    if string_merges:
        data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    reloaded = Tokenizer.from_str(text)
    with open(os.path.join(directory, f"{prefix}tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    cases = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
    assert all(reloaded.encode(c["text"]).ids == c["ids"] for c in cases), "the saved file encodes differently"
    with open(os.path.join(directory, f"{prefix}cases.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{prefix or 'janus '}: {len(cases)} cases, vocab {tok.get_vocab_size()}")


def main() -> None:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(root, "Tests/ZipARTests/Fixtures/tokenizer"))
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    tok = train_tokenizer(training_corpus(), 3000)
    texts = parity_corpus()
    write(tok, texts, args.output, "")
    extra = ["word", "a word.", "words", "sword", "_word_", "x <mask> y", "x  <mask>", "<mask>", "[end]  z",
             "a[end]\n b", "Ω", "\u2126", "\u2126mega", "caf\u00e9 cafe\u0301", "１２３ 456 7８9",
             "a,b,,c", "wow!! ok!", "x...y. z", "\tq\tqq\t", "quick quality", "  lead", "end.\nnext\n"]
    write(variant(tok), texts[::4] + extra, args.output, "variant_", string_merges=True)


if __name__ == "__main__":
    main()
