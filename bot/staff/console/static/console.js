// The console's only script: live deadline countdowns, and polling for new inbox rows and
// conversation lines. No framework, no inline code (the Content-Security-Policy forbids it).
"use strict";

const POLL_MS = 4000;

function countdown() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time.countdown")) {
    const left = Math.round((Date.parse(el.getAttribute("datetime")) - now) / 1000);
    if (left <= 0) {
      el.textContent = el.dataset.overdue;
      el.classList.add("late");
      continue;
    }
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    const s = left % 60;
    el.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    el.classList.toggle("soon", left < 900);
  }
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    window.location.assign("/console/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    return null;
  }
  return response.ok ? response.json() : null;
}

function pollInbox(table) {
  const body = table.querySelector("tbody");
  setInterval(async () => {
    const data = await getJSON(table.dataset.poll);
    if (data && body.innerHTML !== data.rows) {
      body.innerHTML = data.rows;
      countdown();
    }
  }, POLL_MS);
}

function pollConversation(list) {
  setInterval(async () => {
    const data = await getJSON(list.dataset.poll + "?after=" + list.dataset.last);
    if (!data) return;
    if (data.html.trim()) {
      list.insertAdjacentHTML("beforeend", data.html);
      list.lastElementChild.scrollIntoView({ block: "nearest" });
    }
    list.dataset.last = data.last;
    const status = document.getElementById("status");
    if (status && data.status === "closed" && !status.classList.contains("closed")) {
      window.location.reload();
    }
  }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  countdown();
  setInterval(countdown, 1000);
  const table = document.querySelector("table[data-poll]");
  if (table) pollInbox(table);
  const list = document.querySelector("ol[data-poll]");
  if (list) pollConversation(list);
});
