"""The matcher answers when sure, offers choices when torn, says it does not know otherwise,
and hands a person over when the owner asks for one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.faq import FaqMatcher, FaqResult, Thresholds, index
from tests.faq.conftest import entry_yaml

MakeConfig = Callable[..., Path]


@pytest.fixture
def small_base(make_config: MakeConfig) -> FaqMatcher:
    """Two deposit entries that share most words, and one unrelated entry."""
    text = (
        entry_yaml("deposit_amount", ["装修押金多少钱", "装修押金交多少", "押金金额是多少"])
        + entry_yaml("deposit_refund", ["装修押金怎么退", "装修押金什么时候退", "押金退还条件"])
        + entry_yaml(
            "hotline",
            ["客服电话是多少", "热线号码多少", "怎么打客服热线"],
            answer_zh="热线：{hotline}",
            answer_en="Hotline: {hotline}",
        )
    )
    return FaqMatcher.from_config(make_config({"a.yaml": text}, with_project_data=True))


# --- the three outcomes ---------------------------------------------------------------------
def test_a_clear_question_gets_a_confident_answer(small_base: FaqMatcher) -> None:
    result = small_base.ask("装修押金怎么退")
    assert (result.matched, result.entry_id, result.handoff) == (True, "deposit_refund", False)
    assert result.answer == "答案。"
    assert result.score >= 80


def test_a_question_between_two_entries_offers_both_instead_of_guessing(
    small_base: FaqMatcher,
) -> None:
    result = small_base.ask("装修押金的事")
    assert not result.matched
    assert result.answer == ""
    assert {s.entry_id for s in result.suggestions} == {"deposit_amount", "deposit_refund"}


def test_an_unrelated_question_gets_no_answer_and_no_suggestions(small_base: FaqMatcher) -> None:
    result = small_base.ask("今天中午吃什么好呢")
    assert (result.matched, result.handoff, result.suggestions) == (False, False, ())
    assert result.score < Thresholds().suggest


def test_thresholds_decide_the_outcome(small_base: FaqMatcher) -> None:
    strict = FaqMatcher(
        small_base.entries,
        small_base.company,
        small_base.normaliser,
        small_base.intents,
        Thresholds(answer=101, sure=101),
    )
    result = strict.ask("装修押金怎么退")
    assert not result.matched
    assert result.suggestions[0].entry_id == "deposit_refund"


def test_suggestions_carry_the_first_sample_question_in_the_asked_language(
    small_base: FaqMatcher,
) -> None:
    zh = small_base.ask("装修押金的事")
    assert {s.question for s in zh.suggestions} == {"装修押金多少钱", "装修押金怎么退"}
    en = small_base.ask("装修押金的事", lang="en")
    assert {s.question for s in en.suggestions} == {
        "A question about deposit_amount?",
        "A question about deposit_refund?",
    }


# --- answers from the real base ---------------------------------------------------------------
# --- which of two close entries: the question's own words decide --------------------------
def test_a_bare_topic_is_not_taken_for_a_sample_that_asks_more(make_config: MakeConfig) -> None:
    """ "装修押金" sits inside "装修押金能退吗", whose 能/退 ask for more than the topic; the amount
    entry covers the topic without asking more. Without the narrowing words (synonyms.yaml) the
    refund entry wins on that near-verbatim sample."""
    text = (
        entry_yaml(
            "deposit_refund", ["装修押金能退吗", "装修押金什么时候退还", "押金退还要什么条件"]
        )
        + entry_yaml(
            "deposit_amount", ["装修押金要交多少钱", "押金的金额是多少", "装修时押金交多少"]
        )
        + entry_yaml("hotline", ["客服电话是多少", "热线号码多少", "怎么打客服热线"])
    )
    config = make_config({"a.yaml": text}, with_project_data=True)
    narrowing = FaqMatcher.from_config(config)
    assert narrowing.ask("装修押金").entry_id == "deposit_amount"
    assert narrowing.ask("装修押金能退吗").entry_id == "deposit_refund"
    synonyms = config / "faq" / "synonyms.yaml"
    synonyms.write_text(
        synonyms.read_text(encoding="utf-8").split("\nnarrowing:")[0], encoding="utf-8"
    )
    assert FaqMatcher.from_config(config).ask("装修押金").entry_id == "deposit_refund"


def test_a_question_naming_the_topic_and_no_part_gets_the_overview(
    make_config: MakeConfig,
) -> None:
    """ "保修多久" names warranty and no part: the entry that gives every part's period answers,
    not the pipes entry whose sample "水管坏了保修多久" it sits inside. Without `covers` the
    pipes entry is answered; a question naming the part still gets the part."""
    overview = entry_yaml("warranty_all", ["房子保修期多久", "保修几年", "各个部位保几年"])
    pipes = entry_yaml("warranty_pipes", ["水管保修几年", "水管坏了保修多久", "电线保修几年"])
    hotline = entry_yaml("hotline", ["客服电话是多少", "热线号码多少", "怎么打客服热线"])
    covering = overview.replace('  source: "000"', '  covers: [warranty_pipes]\n  source: "000"')
    config = make_config({"a.yaml": pipes + overview + hotline}, with_project_data=True)
    assert FaqMatcher.from_config(config).ask("保修多久").entry_id == "warranty_pipes"
    (config / "faq" / "a.yaml").write_text(pipes + covering + hotline, encoding="utf-8")
    matcher = FaqMatcher.from_config(config)
    assert (matcher.ask("保修多久").matched, matcher.ask("保修多久").entry_id) == (
        True,
        "warranty_all",
    )
    assert matcher.ask("电线保修多久").entry_id == "warranty_pipes"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [("保修多久啊", "warranty_periods"), ("水管保修多久啊", "warranty_pipes_wiring")],
)
def test_the_warranty_overview_answers_unless_a_part_is_named(
    matcher: FaqMatcher, text: str, entry_id: str
) -> None:
    result = matcher.ask(text)
    assert (result.matched, result.entry_id) == (True, entry_id)


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("验房注意事项", "handover_inspection"),
        ("renovation 手续怎么办", "renovation_permit"),
        ("怎么联系你们维修", "repair_how_to_report"),
    ],
)
def test_a_word_only_the_runner_up_is_about_decides_between_close_entries(
    matcher: FaqMatcher, text: str, entry_id: str
) -> None:
    """验房 names the inspection entry, though the renovation advice scores a little higher on
    the rest of the words; such near ties used to be asked back."""
    result = matcher.ask(text)
    assert (result.matched, result.entry_id) == (True, entry_id)


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("收房具体是个什么流程,先交钱还是先看房啊", "handover_steps"),
        ("收房当天大概要交哪些钱啊，好提前准备一下", "fees_move_in"),
    ],
)
def test_a_clause_that_agrees_with_the_whole_message_answers_it(
    matcher: FaqMatcher, text: str, entry_id: str
) -> None:
    """The context around the question dilutes the whole message below the answer threshold;
    the clause that asks it is confident alone. Without the comma the same words are not
    answered."""
    result = matcher.ask(text)
    assert (result.matched, result.entry_id) == (True, entry_id)
    assert not matcher.ask(text.replace(",", "").replace("，", "")).matched


def test_a_clause_does_not_answer_with_an_entry_the_whole_message_does_not_favour(
    matcher: FaqMatcher,
) -> None:
    """ "这个保修的吧" alone reads as the warranty overview; the message is about pipes."""
    result = matcher.ask("刚住一年多厨房下水管就漏了，这个保修的吧")
    assert not result.matched
    assert [s.entry_id for s in result.suggestions] == ["warranty_pipes_wiring"]


def test_a_long_message_is_not_diluted_by_the_owners_story(
    matcher: FaqMatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words the base has never seen (乳胶漆, 空鼓, 咚咚响) are the owner's situation in a long
    message; counted, they pulled it below the answer threshold."""
    text = (
        "客厅墙上的乳胶漆起皮掉了一大块,地砖也有两块空鼓,踩上去咚咚响,这些算保修范围吗?保多长时间的"
    )
    result = matcher.ask(text)
    assert (result.matched, result.entry_id) == (True, "warranty_finishes")
    monkeypatch.setattr(index, "LONG_MESSAGE", 10**6)
    assert not matcher.ask(text).matched


@pytest.mark.parametrize(
    "text",
    [
        "最近手头有点紧，想问问你们有没有什么兼职可以做，我在家也闲着",
        "周末想带孩子出去玩，你们知道附近有什么公园或者游乐场吗",
        "my friend is visiting next week, do you know any nice hotels close to the community",
    ],
)
def test_a_long_message_about_something_the_sources_lack_is_still_declined(
    matcher: FaqMatcher, text: str
) -> None:
    result = matcher.ask(text)
    assert (result.matched, result.handoff) == (False, False)


def test_answers_are_filled_with_company_values(matcher: FaqMatcher) -> None:
    result = matcher.ask("客服热线号码是多少")
    assert result.entry_id == "contact_hotline"
    assert matcher.company["hotline"] in result.answer
    assert "{" not in result.answer


def test_english_answers_use_the_english_company_value(matcher: FaqMatcher) -> None:
    result = matcher.ask("How soon will a repair person come after I report a problem?")
    assert (result.entry_id, result.language) == ("repair_visit_time", "en")
    assert matcher.company["visit_time_en"] in result.answer
    assert matcher.company["visit_time"] not in result.answer


def test_no_answer_in_the_base_contains_an_unfilled_placeholder(matcher: FaqMatcher) -> None:
    for entry in matcher.entries:
        for lang in ("zh", "en"):
            answer = matcher.answer_for(entry.id, lang)
            assert answer is not None
            assert "{" not in answer, (entry.id, lang)


def test_the_language_follows_the_question_unless_the_caller_says_otherwise(
    matcher: FaqMatcher,
) -> None:
    assert matcher.ask("屋顶漏水保修几年").language == "zh"
    assert matcher.ask("Is a leaking roof covered?").language == "en"
    asked_in_english = matcher.ask("屋顶漏水保修几年", lang="en-US")
    assert asked_in_english.language == "en"
    assert asked_in_english.answer == matcher.answer_for("warranty_roof_wall_leak", "en")
    assert matcher.ask("Is a leaking roof covered?", lang="zh-hans").answer.startswith("屋面防水")


def test_suggestion_buttons_resolve_to_answers_and_labels(matcher: FaqMatcher) -> None:
    assert (
        matcher.answer_for("renovation_deadline", "zh")
        == "考虑到电梯的安全使用，请在交付后半年内完成装修。"
    )
    assert (
        matcher.question_for("renovation_deadline", "en") == "Is there a time limit for renovation?"
    )
    assert matcher.answer_for("no_such_entry", "zh") is None
    assert matcher.question_for("no_such_entry", "en") is None


@pytest.mark.parametrize("text", ["", "   ", "？？？！", "你好", "1", "2 ", "027-00000000"])
def test_empty_greeting_or_number_only_messages_are_not_answered(
    matcher: FaqMatcher, text: str
) -> None:
    assert matcher.ask(text) == FaqResult(
        False, None, 0.0, "", False, (), "zh" if text == "你好" else "en"
    )


# --- hand-off and decline ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "人工",
        "转人工",
        "客服",
        "真人",
        "我要投诉",
        "投诉",
        "轉人工客服",
        "找你们经理",
        "talk to a human",
        "agent",
        "I want to complain",
        "I'd like to speak to someone",
        "我要 complain",
        "投诉物业乱收费",
    ],
)
def test_requests_for_a_person_and_complaints_hand_off(matcher: FaqMatcher, text: str) -> None:
    result = matcher.ask(text)
    assert (result.handoff, result.matched, result.entry_id, result.answer) == (
        True,
        False,
        None,
        "",
    )


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("怎么投诉", "complaint_channels"),
        ("投诉后多久处理", "complaint_response_time"),
        ("How do I make a complaint?", "complaint_channels"),
        ("客服电话多少", "contact_hotline"),
    ],
)
def test_questions_about_complaints_and_contacts_are_answered_not_handed_off(
    matcher: FaqMatcher, text: str, entry_id: str
) -> None:
    result = matcher.ask(text)
    assert (result.matched, result.entry_id, result.handoff) == (True, entry_id, False)


@pytest.mark.parametrize(
    "text",
    [
        "今天天气怎么样",
        "推荐个股票",
        "你是谁",
        "小区是哪个学区",
        "房价会涨吗",
        "傻逼",
        "What's the weather tomorrow?",
        "who are you",
        "you stupid bot",
    ],
)
def test_out_of_scope_and_abuse_are_declined_without_guessing(
    matcher: FaqMatcher, text: str
) -> None:
    result = matcher.ask(text)
    assert (result.matched, result.handoff, result.suggestions) == (False, False, ())


def test_an_insult_with_a_request_for_a_person_still_reaches_a_person(matcher: FaqMatcher) -> None:
    assert matcher.ask("垃圾物业，我要投诉！").handoff
    assert not matcher.ask("垃圾物业").handoff


def test_construction_waste_is_not_mistaken_for_an_insult(matcher: FaqMatcher) -> None:
    assert matcher.ask("建筑垃圾清运费怎么算").entry_id == "renovation_debris_fee"


def test_labour_cost_is_not_a_request_for_a_person(matcher: FaqMatcher) -> None:
    assert not matcher.ask("维修人工费怎么算").handoff


def test_results_are_immutable(matcher: FaqMatcher) -> None:
    result = matcher.ask("物业费怎么收")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.answer = "changed"  # type: ignore[misc]
