"""The satisfaction survey in the chat: one question at a time from rules.yaml, scores as
buttons (or typed digits), a comment to type or skip, a way back and a way out. The answers are
stored only when the last question is answered, through the same use case as the web page.

Started by the survey button of a push (`survey:start:<id>`), by "问卷" / /survey, or right after
the owner confirms a fix. The id in a button is never trusted: the survey must be the owner's.
"""

from __future__ import annotations

from typing import Any

from bot.domain.surveys import InvalidAnswer, Question, Survey, SurveyStatus
from bot.engine.context import Context
from bot.engine.flow import Flow, Outcome, pressed
from bot.engine.types import Button, MessageKind, Reply, button_rows
from bot.handlers.common import local_time, owner_id
from bot.services.survey_answers import Via, submit_answers
from bot.services.surveys import describe, hint_key, open_now


class SurveyFlow(Flow):
    name = "survey"
    commands = ("/survey",)
    shortcuts = ("问卷", "满意度", "评价", "回访问卷", "survey")

    async def start(self, ctx: Context, argument: str) -> Outcome:
        surveys = await ctx.uow.surveys.open_for_owner(owner_id(ctx), ctx.now)
        if not surveys:
            return Outcome([Reply(ctx.t("survey.none_open"))])
        # One not pushed yet fell due in this very chat (the owner just confirmed a fix): it.
        fresh = [s for s in surveys if s.status is SurveyStatus.PENDING]
        if len(surveys) == 1 or fresh:
            return await self._begin(ctx, (fresh or surveys)[0])
        texts = ctx.services.texts
        labels = [await describe(ctx.uow, texts, s, ctx.lang) for s in surveys]
        rows = [
            [Button(label, f"survey:start:{s.id}")]
            for label, s in zip(labels, surveys, strict=True)
        ]
        text = ctx.t("survey.choose", count=len(surveys))
        return Outcome([Reply(text, buttons=button_rows(*rows))])

    async def press(self, ctx: Context, value: str) -> Outcome | None:
        """The start button of a push or a reminder stays valid until the survey expires."""
        action, _, raw_id = value.partition(":")
        if action != "start" or not raw_id.isdigit():
            return None
        survey = await ctx.uow.surveys.get(int(raw_id))
        if survey is None or survey.owner_id != owner_id(ctx):
            return Outcome([Reply(ctx.t("survey.closed"))])
        return await self._begin(ctx, survey)

    async def step_question(self, ctx: Context, data: dict[str, Any]) -> Outcome:
        value = pressed(ctx.msg, self.name)
        if value is not None and value.startswith("start:"):
            return await self.press(ctx, value) or await self.start(ctx, "")
        survey = await ctx.uow.surveys.get(int(data["survey_id"]))
        if survey is None or not survey.is_open(ctx.now):
            return Outcome([Reply(ctx.t("survey.closed"))])
        index, answers = int(data["index"]), dict(data["answers"])
        if value == "quit":
            expires = local_time(ctx, survey.expires_at) if survey.expires_at else ""
            return Outcome([Reply(ctx.t("survey.quit", expires=expires))])
        if value == "back":
            return self._ask(ctx, survey, max(index - 1, 0), answers)
        question = ctx.rules.survey.questions(survey.kind)[index]
        answer = self._answer(ctx, question, value)
        if answer is None:  # a photo, a sticker, a score out of range
            wrong = "survey.invalid_score" if question.scored else "survey.hint_comment"
            hint = ctx.t(wrong, scale=ctx.rules.survey.scale)
            return self._ask(ctx, survey, index, answers, hint)
        answers[question.id] = answer
        if index + 1 < len(ctx.rules.survey.questions(survey.kind)):
            return self._ask(ctx, survey, index + 1, answers)
        return await self._submit(ctx, survey, answers)

    def _answer(self, ctx: Context, question: Question, value: str | None) -> str | None:
        """A score pressed or typed; for the comment, any text (skip: empty)."""
        if value is not None:
            kind, _, given = value.partition(":")
            return (
                given if kind == "score" and question.scored else ("" if kind == "skip" else None)
            )
        if ctx.msg.kind is not MessageKind.TEXT:
            return None
        text = ctx.msg.text.strip()
        if not question.scored:
            return text
        return text if ctx.rules.survey.parse_score(text) is not None else None

    async def _begin(self, ctx: Context, survey: Survey) -> Outcome:
        if not survey.can_start(ctx.now):
            return Outcome([Reply(ctx.t("survey.closed"))])
        await open_now(ctx.uow, ctx.rules.survey, survey, ctx.now)
        opened = await ctx.uow.surveys.get(survey.id)
        assert opened is not None
        about = await describe(ctx.uow, ctx.services.texts, opened, ctx.lang)
        intro = ctx.t("survey.intro", about=about)
        return self._ask(ctx, opened, 0, {}, intro)

    def _ask(
        self,
        ctx: Context,
        survey: Survey,
        index: int,
        answers: dict[str, str],
        before: str = "",
    ) -> Outcome:
        questions = ctx.rules.survey.questions(survey.kind)
        question = questions[index]
        scale = ctx.rules.survey.scale
        hint = ctx.t(hint_key(ctx.services.texts, question, ctx.lang), scale=scale)
        text = f"{ctx.t(f'survey.q_{question.id}')}\n{hint}"
        asked = ctx.t("survey.progress", n=index + 1, total=len(questions), question=text)
        rows: list[list[Button]] = []
        if question.scored:
            rows.append(
                [
                    Button(self._score_label(ctx, n, scale), f"survey:score:{n}")
                    for n in range(1, scale + 1)
                ]
            )
        else:
            rows.append([Button(ctx.t("survey.button_skip"), "survey:skip")])
        way = [Button(ctx.t("survey.button_back"), "survey:back")] if index else []
        rows.append([*way, Button(ctx.t("survey.button_quit"), "survey:quit")])
        body = "\n".join(part for part in (before, asked) if part)
        data = {"survey_id": survey.id, "index": index, "answers": answers}
        return Outcome([Reply(body, buttons=button_rows(*rows))], next_step="question", data=data)

    def _score_label(self, ctx: Context, n: int, scale: int) -> str:
        if n == 1:
            return ctx.t("survey.score_lowest", n=n)
        if n == scale:
            return ctx.t("survey.score_highest", n=n)
        return str(n)

    async def _submit(self, ctx: Context, survey: Survey, answers: dict[str, str]) -> Outcome:
        try:
            result = await submit_answers(
                ctx.uow,
                ctx.services.texts,
                ctx.rules,
                ctx.services.settings,
                survey,
                answers,
                via=Via.CHAT,
                account_id=ctx.account.id,
                lang=ctx.lang,
                now=ctx.now,
            )
        except InvalidAnswer as error:
            index = [q.id for q in ctx.rules.survey.questions(survey.kind)].index(error.question)
            return self._ask(ctx, survey, index, answers)
        return Outcome([Reply(result.text(ctx.services.texts, ctx.lang, ctx.services.settings.tz))])
