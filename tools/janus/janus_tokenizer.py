"""A Janus-shaped byte-level BPE tokenizer, trained with the `tokenizers` library.

Janus-Pro's text tokenizer is DeepSeek-LLM's byte-level BPE (families.md section 1.4). The real
`tokenizer.json` has 100,000 trained tokens; this module trains a small one with the same pipeline so
that the Swift tokenizer can be tested for parity without the real file:

- normalizer: none (DeepSeek-LLM's file has no normalizer that changes text);
- pre-tokenizer: `Sequence` of the five DeepSeek-LLM `Split` regexes (behavior Isolated), then
  `Digits(individual_digits=True)`, then `ByteLevel(add_prefix_space=False, use_regex=False)`;
- decoder: `ByteLevel`;
- added tokens: Janus's specials and role tokens, appended after the trained vocabulary, so that the
  BOS id equals the trained vocabulary size, as in Janus (BOS = 100000 right after 100000 trained tokens);
- post-processor: `TemplateProcessing` that prepends BOS ("<｜begin▁of▁sentence｜> $A").

Digits: llama.cpp writes the sixth DeepSeek-LLM rule as `\\p{N}+`, but DeepSeek-LLM splits numbers into
individual digits (its paper, "numbers are split into individual digits"), which its tokenizer.json does
with a `Digits(individual_digits=True)` step. We use that step, so every digit is its own piece.

Layout of ids (`special_ids` returns them): ids 0..n-1 are the trained vocabulary (256 byte symbols
first, then merges); then, in this order, `<｜begin▁of▁sentence｜>` (BOS, id n), `<｜end▁of▁sentence｜>`,
`<｜▁pad▁｜>`, `<image_placeholder>`, `<begin_of_image>`, `<end_of_image>` (special tokens), then
`<|User|>` and `<|Assistant|>` (added, not special, as role markers are in Janus's chat template).
"""

import argparse
import json
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
SPECIAL_TOKENS = [BOS, EOS, PAD, "<image_placeholder>", "<begin_of_image>", "<end_of_image>"]
ROLE_TOKENS = ["<|User|>", "<|Assistant|>"]

# DeepSeek-LLM's split regexes, in order (families.md section 1.4, as llama.cpp hard-codes them). The letter
# class holds six code points that Unicode normalization (NFC) would change; families.md shows them
# normalized, which makes three ranges empty ("Ὗ-ώ", "ῐ-ΐ", "ῖ-Ί") and Oniguruma reject the regex. They are
# written as escapes here: U+1F7D, U+1FD3, U+1FDB (range ends), U+1FBE, U+2126, U+212A. With them the class
# is a subset of the cased letters (Lu, Ll, Lt), as the original is.
SPLIT_REGEXES = [
    "[\r\n]",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    "[一-龥ࠀ-一가-퟿]+",
]


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """The DeepSeek-LLM pre-tokenizer: Split regexes (Isolated), single digits, byte-level without regex."""
    steps = [pre_tokenizers.Split(Regex(r), behavior="isolated", invert=False) for r in SPLIT_REGEXES]
    steps.append(pre_tokenizers.Digits(individual_digits=True))
    steps.append(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False))
    return pre_tokenizers.Sequence(steps)


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """Trains a Janus-shaped byte-level BPE on `texts` with `vocab_size` trained tokens (bytes included).

    The specials and role tokens come after the trained vocabulary (see the module doc), and the
    post-processor prepends BOS. BOS's id is the trained size, `tok.get_vocab_size(with_added_tokens=False)`,
    which is less than `vocab_size` when the texts have too few pairs to merge. Training is deterministic
    for the same texts and size.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tok.add_tokens([AddedToken(t, special=False, normalized=True) for t in ROLE_TOKENS])
    bos = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos)]
    )
    return tok


def special_ids(tok: Tokenizer) -> dict:
    """The ids of Janus's special and role tokens in `tok`, keyed by token text."""
    return {t: tok.token_to_id(t) for t in SPECIAL_TOKENS + ROLE_TOKENS}


def default_corpus() -> list[str]:
    """A small fixed corpus: prompts, the Janus template, numbers, accents, CJK, Hangul and emoji."""
    base = [
        "a red fox in the snow", "A portrait of young girl. masterpiece, film grained, best quality.",
        "a photo of an astronaut riding a horse on the moon", "The quick brown fox jumps over the lazy dog!",
        "<|User|>: a cat sitting on a windowsill\n\n<|Assistant|>:<begin_of_image>",
        "In 2024, 3.14159 and 1,000,000 people", "Café naïve résumé façade Ångström",
        "你好，世界！这是一个测试。", "日本語のテキストとカタカナ", "한국어 텍스트입니다", "Emoji 😀👍🏽🇺🇸 ❤️",
        "def foo(x):\n    return x ** 2  # comment", "Россия и Українa, Ελληνικά", "مرحبا بالعالم",
    ]
    return [f"{s} {i}" if i else s for i in range(20) for s in base]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="tokenizer.json", help="where to write tokenizer.json")
    parser.add_argument("--vocab-size", type=int, default=1000, help="trained tokens, bytes included")
    args = parser.parse_args()
    tok = train_tokenizer(default_corpus(), args.vocab_size)
    tok.save(args.output, pretty=True)
    json.dump(special_ids(tok), sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
