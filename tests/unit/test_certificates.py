"""Certificate stages, checklist and the staff CSV's cell rules, with the real rules.yaml."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import load_rules
from bot.domain.certificates import (
    KEEP,
    CaseRow,
    CertificateCase,
    StageState,
    merge,
    progress,
    stage_error,
)
from bot.services.certificates import parse_cases
from bot.settings import PROJECT_ROOT

RULES = load_rules(PROJECT_ROOT / "config").certificate
HEADER = "project,building,unit,stage,stage_date,mortgage,eta,outstanding_items,note\n"


def case(stage: str, mortgage: bool = False, outstanding: tuple[str, ...] = ()) -> CertificateCase:
    return CertificateCase(
        id=1,
        unit_id=1,
        mortgage=mortgage,
        stage=stage,
        stage_date=date(2026, 10, 1),
        eta=None,
        outstanding=outstanding,
        note="",
        updated_at=datetime(2026, 10, 1, tzinfo=UTC),
    )


def test_mortgage_stages_are_skipped_without_a_mortgage() -> None:
    plain = RULES.stages_for(mortgage=False)
    assert "mortgage_arranged" not in plain and "mortgage_registered" not in plain
    assert plain[0] == "contract_filed" and plain[-1] == "land_certificate_done"
    assert len(RULES.stages_for(mortgage=True)) == len(plain) + 2


@pytest.mark.parametrize(
    ("stage", "mortgage", "next_stage", "done"),
    [
        ("contract_filed", False, "project_accepted", 0),
        ("contract_filed", True, "mortgage_arranged", 0),
        ("ready_for_pickup", False, "land_certificate_done", 10),
        ("ready_for_pickup", True, "mortgage_registered", 11),
        ("land_certificate_done", True, None, 13),
    ],
)
def test_progress_marks_done_current_and_next(
    stage: str, mortgage: bool, next_stage: str | None, done: int
) -> None:
    view = progress(case(stage, mortgage), RULES)
    states = dict(view.stages)
    assert states[stage] is StageState.CURRENT
    assert sum(state is StageState.DONE for state in states.values()) == done
    assert view.next_stage == next_stage


def test_checklist_splits_what_the_owner_brings_from_what_the_company_obtains() -> None:
    outstanding = ("full_payment_receipt", "deed_tax_receipt", "loan_contract")
    view = progress(case("docs_collected", True, outstanding), RULES)
    assert dict(view.checklist) == {
        "id_card": False,
        "purchase_contract": False,
        "full_payment_receipt": True,
        "application_and_poa": False,
        "fund_and_taxes": False,
    }
    # 002: "取得交款凭证", "取得完税证明", "取回按揭合同": the company's part
    assert dict(view.company) == {
        "invoice": False,
        "fund_receipt": False,
        "deed_tax_receipt": True,
        "loan_contract": True,
    }


def test_a_case_without_mortgage_has_no_mortgage_contract_to_retrieve() -> None:
    view = progress(case("docs_collected", False, ()), RULES)
    assert "loan_contract" not in dict(view.company)


@pytest.mark.parametrize(
    ("stage", "mortgage", "error"),
    [
        ("deed_tax_paid", False, None),
        ("mortgage_registered", True, None),
        ("mortgage_registered", False, "mortgage_stage_without_mortgage"),
        ("keys_handed_over", True, "unknown_stage"),
    ],
)
def test_stage_error(stage: str, mortgage: bool, error: str | None) -> None:
    assert stage_error(stage, mortgage, RULES) == error


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("翠湖花园,1栋,1-0101,done,,,,,", "stage 'done' is not one of"),
        ("翠湖花园,1栋,,contract_filed,,,,,", "unit is empty"),
        ("翠湖花园,1栋,1-0101,contract_filed,2026-13-01,,,,", "stage_date '2026-13-01'"),
        ("翠湖花园,1栋,1-0101,contract_filed,,maybe,,,", "mortgage 'maybe' must be yes or no"),
        ("翠湖花园,1栋,1-0101,contract_filed,,,soon,,", "eta 'soon'"),
        ("翠湖花园,1栋,1-0101,contract_filed,,,,passport,", "outstanding_items ['passport']"),
        ("翠湖花园,1栋,1-0101,contract_filed,,,,,,extra", "more values than columns"),
    ],
)
def test_row_problems_name_the_line(line: str, problem: str) -> None:
    good = "翠湖花园,1栋,1-0102,contract_filed,,,,,\n"
    rows, errors = parse_cases((HEADER + good + line + "\n").encode(), RULES)
    assert len(errors) == 1
    assert errors[0].startswith("line 3: ") and problem in errors[0]
    assert [row.line for row in rows] == [2]


def test_header_must_name_the_required_columns() -> None:
    _, errors = parse_cases(b"project,building,stage\n", RULES)
    assert len(errors) == 1 and errors[0].startswith("line 1: columns must be")
    assert errors[0].endswith("; missing: unit")


def test_gbk_from_chinese_excel_is_read() -> None:
    data = (HEADER + "翠湖花园,1栋,1-0101,contract_filed,2026/10/01,是,-,-,-\n").encode("gb18030")
    rows, errors = parse_cases(data, RULES)
    assert errors == []
    assert rows[0].stage_date == date(2026, 10, 1)
    assert rows[0].mortgage is True
    assert (rows[0].eta, rows[0].outstanding, rows[0].note) == (None, (), "")


def row(**cells: object) -> CaseRow:
    values: dict[str, object] = {
        "line": 2,
        "project": "P",
        "building": "B",
        "unit": "U",
        "stage": "deed_tax_paid",
        "stage_date": KEEP,
        "mortgage": KEEP,
        "eta": KEEP,
        "outstanding": KEEP,
        "note": KEEP,
    }
    values.update(cells)
    return CaseRow(**values)  # type: ignore[arg-type]


TODAY = date(2026, 11, 23)


def test_a_new_case_gets_defaults_and_the_whole_checklist() -> None:
    values = merge(row(), None, RULES, TODAY)
    assert values.stage_date == TODAY and values.mortgage is False and values.eta is None
    assert values.outstanding == RULES.checklist_for(False)


def test_blank_cells_keep_the_case_and_a_new_stage_is_dated_today() -> None:
    existing = case("fees_collected", mortgage=True, outstanding=("invoice",))
    values = merge(row(), existing, RULES, TODAY)
    assert values.mortgage is True and values.outstanding == ("invoice",)
    assert values.stage_date == TODAY  # the stage moved on
    same = merge(row(stage="fees_collected"), existing, RULES, TODAY)
    assert same.stage_date == existing.stage_date  # unchanged stage keeps its date
