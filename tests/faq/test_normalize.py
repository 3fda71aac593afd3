"""Owners' spellings meet: scripts, widths, typos and synonyms normalise to one form."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq.index import stem
from bot.faq.normalize import (
    Normaliser,
    SynonymTable,
    clauses,
    detect_language,
    load_synonyms,
)
from tests.faq.conftest import CONFIG_DIR


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    table, issues = load_synonyms(CONFIG_DIR / "faq" / "synonyms.yaml")
    assert issues == []
    return Normaliser(table)


def test_traditional_characters_become_simplified(normaliser: Normaliser) -> None:
    assert normaliser.normalise("裝修申請") == "装修申请"


def test_full_width_letters_digits_and_punctuation_are_folded(normaliser: Normaliser) -> None:
    assert normaliser.normalise("ＡＢＣ１２３？！") == "abc123"


def test_punctuation_and_spaces_between_chinese_disappear(normaliser: Normaliser) -> None:
    assert normaliser.normalise(" 保修 期，多久？ ") == normaliser.normalise("保修期多久")


def test_english_keeps_single_spaces_between_words(normaliser: Normaliser) -> None:
    assert normaliser.normalise("Who   are YOU?") == "who are you"


@pytest.mark.parametrize(
    ("typo", "correct"),
    [
        ("宝修期多久", "保修期多久"),
        ("契说怎么交", "契税怎么交"),
        ("收房要带身分证吗", "收房要带身份证吗"),
    ],
)
def test_common_input_method_typos_are_corrected(
    normaliser: Normaliser, typo: str, correct: str
) -> None:
    assert normaliser.normalise(typo) == normaliser.normalise(correct)


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("屋顶漏水", "屋顶渗漏"),
        ("装修押金", "装修保证金"),
        ("物管费多少", "物业费多少"),
        ("产证办好了吗", "产权证办好了吗"),
        ("收楼", "交房"),
        ("入伙", "交房"),
        ("入住", "交房"),
        ("保固期", "保修期"),
    ],
)
def test_synonyms_share_one_canonical_form(
    normaliser: Normaliser, variant: str, canonical: str
) -> None:
    assert normaliser.normalise(variant) == normaliser.normalise(canonical)


def test_longest_variant_wins(normaliser: Normaliser) -> None:
    assert normaliser.normalise("物业管理费") == "物业费"


def test_a_canonical_form_is_not_rewritten_again(normaliser: Normaliser) -> None:
    assert normaliser.normalise("产权证") == "产权证"


def test_english_domain_words_map_to_the_chinese_term(normaliser: Normaliser) -> None:
    assert normaliser.normalise("title deed") == normaliser.normalise("房产证")


def test_latin_variants_match_whole_words_only() -> None:
    normaliser = Normaliser(SynonymTable({"deed": "title", "title": "title"}))
    assert normaliser.normalise("deed") == "title"
    assert normaliser.normalise("deeds indeed") == "deeds indeed"


def test_greetings_and_politeness_are_dropped(normaliser: Normaliser) -> None:
    assert normaliser.normalise("你好，请问保修期多久？谢谢") == normaliser.normalise("保修期多久")
    assert normaliser.normalise("你好") == ""


def test_mixed_chinese_and_english_has_no_space_around_chinese(normaliser: Normaliser) -> None:
    assert normaliser.normalise("保修 period 多久") == "保修period多久"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("保修期多久", "zh"),
        ("how long", "en"),
        ("物业费 how much", "zh"),
        ("產權證", "zh"),
        ("", "en"),
    ],
)
def test_any_chinese_character_means_chinese(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_clauses_split_at_commas_and_sentence_ends_not_in_lists_or_numbers() -> None:
    assert clauses("门锁、窗户五金这些，到底保几年啊？交房1.5年了. ok!") == [
        "门锁、窗户五金这些",
        "到底保几年啊",
        "交房1.5年了",
        " ok",
    ]
    assert clauses("，。") == []


@pytest.mark.parametrize(
    ("forms"),
    [("service", "services"), ("charge", "charged", "charges"), ("leak", "leaks", "leaked")],
)
def test_english_word_forms_share_one_stem(forms: tuple[str, ...]) -> None:
    assert len({stem(word) for word in forms}) == 1


def test_a_variant_claimed_by_two_groups_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("synonyms:\n  交房: [收楼]\n  入住: [收楼]\n", encoding="utf-8")
    _, issues = load_synonyms(path)
    assert [issue.line for issue in issues] == [3]
    assert "收楼" in issues[0].message


def test_narrowing_words_are_read_in_canonical_form_and_bad_items_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text(
        "synonyms:\n  哪里: [哪兒]\nnarrowing: [能, 哪兒, [x], Where]\n", encoding="utf-8"
    )
    table, issues = load_synonyms(path)
    assert Normaliser(table).narrowing == ("能", "哪里", "where")
    assert [issue.line for issue in issues] == [3]


def test_segmenting_keeps_the_canonical_form_and_splits_it_between_known_terms(
    normaliser: Normaliser,
) -> None:
    """A bigram joining two terms ("证怎" in 产权证怎么) is no word of the question."""
    text = "請問，房產證咋辦理？"
    assert normaliser.normalise(text) == "产权证怎么办理"
    assert normaliser.segment(text) == "产权证 怎么 办理"
    assert normaliser.segment("how do I get my title deed") == "how do i get my 产权证"
