"""Web addresses in a pushed message become links on its page; nothing else becomes markup."""

from __future__ import annotations

from bot.pages.messages import linkify


def test_an_address_becomes_a_link_and_the_rest_stays_text() -> None:
    text = '请填写：https://bot.example.com/s/7?t=1.ab_c-d\n<b>"x"</b> & http://a.b/c'
    assert str(linkify(text)) == (
        '请填写：<a href="https://bot.example.com/s/7?t=1.ab_c-d">'
        "https://bot.example.com/s/7?t=1.ab_c-d</a>\n"
        '&lt;b&gt;&#34;x&#34;&lt;/b&gt; &amp; <a href="http://a.b/c">http://a.b/c</a>'
    )


def test_an_address_cannot_break_out_of_its_attribute() -> None:
    html = str(linkify('https://x.example/"onmouseover="alert(1)'))
    assert '"onmouseover' not in html and '<a href="https://x.example/">' in html
