"use strict";
// The asyncq monitor: a small single-page app over the JSON API under /api.
// Routes live in the URL hash (#/queues/default?state=retry&page=2) so every view can be
// bookmarked; the current view re-renders on each live-refresh tick.

const STATES = ["active", "pending", "aggregating", "scheduled", "retry", "archived", "completed"];
const RUNNABLE = ["scheduled", "retry", "archived", "aggregating"];
const ARCHIVABLE = ["pending", "scheduled", "retry", "aggregating"];
const PAGE_SIZE = 20;

const view = document.getElementById("view");
let timer = null;
let busy = false;
// Tasks ticked on the queue page; kept across refreshes while the same tab is shown.
const selection = new Set();
let selectionScope = "";

// --- helpers ------------------------------------------------------------------------

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  }[c]));
}

function num(n) { return Number(n || 0).toLocaleString(); }

function bytes(n) {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  n = Number(n || 0);
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function ago(iso) {
  if (!iso) return "-";
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m`
    : abs < 86400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return `<span title="${esc(iso)}">${seconds >= 0 ? "in " + text : text + " ago"}</span>`;
}

// A duration in seconds as the CLI prints it, in its largest units: span(5400) is "1h30m",
// span(3330, 1) is "55m".
function span(seconds, units = 2) {
  let rest = Math.max(0, Math.round(seconds));
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count) parts.push(`${count}${unit}`);
  }
  return parts.slice(0, units).join("") || "0s";
}

function rate(processed, failed) {
  return processed ? `${((100 * failed) / processed).toFixed(2)}%` : "0.00%";
}

function toast(message, isError) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `show${isError ? " error" : ""}`;
  clearTimeout(el.hideTimer);
  el.hideTimer = setTimeout(() => { el.className = ""; }, 3500);
}

function authHeader() {
  const secret = sessionStorage.getItem("asyncq-auth");
  if (!secret) return {};
  return secret.includes(":")
    ? { Authorization: `Basic ${btoa(secret)}` }
    : { Authorization: `Bearer ${secret}` };
}

async function api(path, options = {}) {
  const response = await fetch(`/api${path}`, {
    ...options, headers: { ...authHeader(), ...(options.headers || {}) },
  });
  if (response.status === 401) {
    const secret = prompt("This action needs credentials: a token, or user:password.");
    if (secret) {
      sessionStorage.setItem("asyncq-auth", secret);
      return api(path, options);
    }
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(body.error || `HTTP ${response.status}`);
  }
  return response.status === 204 ? null : response.json();
}

function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

async function act(question, path, method, success) {
  if (!(await confirmAction(question))) return;
  try {
    const body = await api(path, { method });
    toast(typeof success === "function" ? success(body) : success);
    render();
  } catch (error) {
    toast(error.message, true);
  }
}

function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent),
           params: new URLSearchParams(query || "") };
}

function stateBar(q) {
  const total = STATES.reduce((sum, s) => sum + (q[s] || 0), 0);
  if (!total) return `<div class="bar"></div>`;
  const spans = STATES.filter((s) => q[s]).map((s) =>
    `<span style="width:${(100 * q[s]) / total}%;background:var(--${s})" title="${s}: ${q[s]}"></span>`);
  return `<div class="bar">${spans.join("")}</div>`;
}

function legend() {
  return `<div class="legend">${STATES.map((s) =>
    `<span><i class="dot" style="background:var(--${s})"></i>${s}</span>`).join("")}</div>`;
}

function blob(text, format) {
  if (text === "" || text === null || text === undefined) return `<span class="sub">none</span>`;
  if (format === "json") {
    try { return `<pre class="blob">${esc(JSON.stringify(JSON.parse(text), null, 2))}</pre>`; }
    catch (e) { /* shown as text below */ }
  }
  const label = format === "hex" ? `<div class="sub hint">binary, shown as hex</div>` : "";
  return `${label}<pre class="blob">${esc(text)}</pre>`;
}

// --- dashboard ----------------------------------------------------------------------

async function dashboard() {
  const [{ queues }, { stats }] = await Promise.all([api("/queues"), api("/queue_stats?days=30")]);
  const sum = (key) => queues.reduce((total, q) => total + (q[key] || 0), 0);
  const cards = [
    ["Queues", queues.length], ["Pending", sum("pending")], ["Active", sum("active")],
    ["Scheduled", sum("scheduled")], ["Retry", sum("retry")],
    ["Processed today", sum("processed")], ["Failed today", sum("failed"), sum("failed") > 0],
  ].map(([label, value, bad]) =>
    `<div class="card${bad ? " bad" : ""}"><div class="label">${label}</div>` +
    `<div class="value">${num(value)}</div></div>`).join("");

  const rows = queues.map((q) => {
    const link = `#/queues/${encodeURIComponent(q.queue)}`;
    return `<tr>
      <td class="queue-name"><a href="${link}"><b>${esc(q.queue)}</b></a>
        ${q.paused ? '<span class="badge paused">paused</span>' : ""}</td>
      <td>${stateBar(q)}</td>
      <td class="num">${num(q.size)}</td>
      ${STATES.map((s) => `<td class="num"><a href="${link}?state=${s}">${num(q[s])}</a></td>`).join("")}
      <td class="num">${num(q.processed)}</td>
      <td class="num" title="error rate ${rate(q.processed, q.failed)}">${num(q.failed)}
        <span class="sub">${rate(q.processed, q.failed)}</span></td>
      <td class="num">${esc(q.display_latency)}</td>
      <td class="num">${bytes(q.memory_usage_bytes)}</td>
      <td><div class="actions">${q.paused
        ? `<button class="small" data-act="resume" data-q="${esc(q.queue)}">Resume</button>`
        : `<button class="small" data-act="pause" data-q="${esc(q.queue)}">Pause</button>`}
        <button class="small danger" data-act="remove" data-q="${esc(q.queue)}">Delete</button></div></td>
    </tr>`;
  }).join("");

  view.innerHTML = `
    <h1>Queues</h1>
    <div class="sub">Every queue on this Redis, with today's counts (UTC).</div>
    <div class="cards">${cards}</div>
    <div class="panel">
      ${queues.length ? `<table class="queues">
        <thead><tr><th>Queue</th><th>Tasks by state</th><th class="num">Size</th>
          ${STATES.map((s) => `<th class="num">${s[0].toUpperCase() + s.slice(1)}</th>`).join("")}
          <th class="num">Processed</th><th class="num">Failed</th>
          <th class="num">Latency</th><th class="num">Memory</th><th></th></tr></thead>
        <tbody>${rows}</tbody></table>` : `<div class="empty">No queue yet: enqueue a task to see it here.</div>`}
    </div>
    ${legend()}
    <h2>Processed and failed, last 30 days</h2>
    <div class="panel chart">${historyChart(stats)}</div>`;

  view.querySelectorAll("[data-act]").forEach((button) => {
    button.onclick = () => queueAction(button.dataset.q, button.dataset.act);
  });
}

function queueAction(queue, verb) {
  const path = `/queues/${encodeURIComponent(queue)}`;
  if (verb === "remove") {
    return act(`Remove queue "${queue}" and every task it holds? This cannot be undone.`,
      `${path}?force=true`, "DELETE", `Queue "${queue}" removed.`);
  }
  return act(`${verb === "pause" ? "Pause" : "Resume"} queue "${queue}"?`, `${path}:${verb}`, "POST",
    `Queue "${queue}" ${verb === "pause" ? "paused" : "resumed"}.`);
}

function historyChart(stats) {
  const days = new Map();
  Object.values(stats).forEach((list) => list.forEach((d) => {
    const day = days.get(d.date) || { processed: 0, failed: 0 };
    day.processed += d.processed;
    day.failed += d.failed;
    days.set(d.date, day);
  }));
  const series = [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  if (!series.length) return `<div class="empty">No history yet.</div>`;

  const width = 1000, height = 220, left = 44, bottom = 24, top = 10;
  const max = Math.max(1, ...series.map(([, d]) => d.processed));
  const step = (width - left) / series.length;
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const bars = series.map(([date, d], i) => {
    const x = left + i * step + step * 0.15;
    const w = step * 0.7;
    return `<g><title>${date}: ${d.processed} processed, ${d.failed} failed</title>
      <rect x="${x}" y="${y(d.processed)}" width="${w}" height="${y(d.failed) - y(d.processed)}" fill="var(--completed)" rx="2"></rect>
      <rect x="${x}" y="${y(d.failed)}" width="${w}" height="${height - bottom - y(d.failed)}" fill="var(--archived)" rx="2"></rect>
      ${i % Math.ceil(series.length / 10) === 0 ? `<text x="${x + w / 2}" y="${height - 6}" text-anchor="middle">${date.slice(5)}</text>` : ""}</g>`;
  }).join("");
  const ticks = [0, 0.5, 1].map((f) => `<line class="axis" x1="${left}" x2="${width}" y1="${y(max * f)}" y2="${y(max * f)}" stroke-dasharray="${f ? "3 4" : ""}"></line>
    <text x="${left - 6}" y="${y(max * f) + 4}" text-anchor="end">${num(Math.round(max * f))}</text>`).join("");
  return `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img"
      aria-label="Processed and failed tasks per day">${ticks}${bars}</svg>
    <div class="legend"><span><i class="dot" style="background:var(--completed)"></i>succeeded</span>
      <span><i class="dot" style="background:var(--archived)"></i>failed</span></div>`;
}

// --- queue page ---------------------------------------------------------------------

function taskColumns(state) {
  const base = [["ID", (t) => `<a class="mono" href="#/queues/${encodeURIComponent(t.queue)}/tasks/${encodeURIComponent(t.id)}">${esc(t.id)}</a>`],
    ["Type", (t) => esc(t.type)],
    ["Payload", (t) => `<div class="clip mono" title="${esc(t.payload)}">${t.payload_format === "hex" ? "hex " : ""}${esc(t.payload)}</div>`]];
  const extra = {
    active: [["Started", (t) => (t.start_time === "-" ? "-" : ago(t.start_time))],
      ["Deadline", (t) => (t.deadline === "-" ? "-" : ago(t.deadline))],
      ["Orphaned", (t) => (t.is_orphaned ? '<span class="badge warn">lease expired</span>' : "no")]],
    scheduled: [["Runs", (t) => ago(t.next_process_at)]],
    retry: [["Next retry", (t) => ago(t.next_process_at)], ["Retried", (t) => `${t.retried}/${t.max_retry}`],
      ["Last error", (t) => `<div class="clip error-text" title="${esc(t.error_message)}">${esc(t.error_message)}</div>`]],
    archived: [["Failed", (t) => ago(t.last_failed_at)], ["Retried", (t) => `${t.retried}/${t.max_retry}`],
      ["Last error", (t) => `<div class="clip error-text" title="${esc(t.error_message)}">${esc(t.error_message)}</div>`]],
    completed: [["Completed", (t) => ago(t.completed_at)], ["Expires", (t) => (t.ttl_seconds === null ? "-" : `in ${span(t.ttl_seconds, 1)}`)],
      ["Result", (t) => (t.result ? `<div class="clip mono">${esc(t.result)}</div>` : "-")]],
    aggregating: [["Group", (t) => esc(t.group)]],
  };
  return base.concat(extra[state] || []);
}

function rowActions(state, task) {
  const buttons = [];
  if (state === "active") buttons.push(["cancel", "Cancel", ""]);
  if (RUNNABLE.includes(state)) buttons.push(["run", "Run now", ""]);
  if (ARCHIVABLE.includes(state)) buttons.push(["archive", "Archive", ""]);
  if (state !== "active") buttons.push(["delete", "Delete", "danger"]);
  return buttons.map(([verb, label, cls]) =>
    `<button class="small ${cls}" data-task="${esc(task.id)}" data-verb="${verb}">${label}</button>`).join("");
}

function tasksPath(queue, state, group) {
  const q = encodeURIComponent(queue);
  return state === "aggregating" ? `/queues/${q}/groups/${encodeURIComponent(group)}/aggregating_tasks`
    : `/queues/${q}/${state}_tasks`;
}

async function queuePage(queue, params) {
  const state = STATES.includes(params.get("state")) ? params.get("state") : "pending";
  const page = Math.max(1, Number(params.get("page")) || 1);
  let group = params.get("group") || "";
  const { groups } = await api(`/queues/${encodeURIComponent(queue)}/groups`);
  if (state === "aggregating" && !group && groups.length) group = groups[0].group;

  let body;
  if (state === "aggregating" && !group) {
    body = { tasks: [], stats: (await api(`/queues/${encodeURIComponent(queue)}`)).current };
  } else {
    body = await api(`${tasksPath(queue, state, group)}?page=${page}&size=${PAGE_SIZE}`);
  }
  const { tasks, stats } = body;
  const columns = taskColumns(state);
  const link = (s, p, g) => `#/queues/${encodeURIComponent(queue)}?state=${s}&page=${p}${g ? `&group=${encodeURIComponent(g)}` : ""}`;
  const tabs = STATES.map((s) => `<a class="${s === state ? "current" : ""}" href="${link(s, 1)}">${s}<span class="count">${num(stats[s])}</span></a>`).join("");
  const total = state === "aggregating" ? (groups.find((g) => g.group === group) || { size: 0 }).size : stats[state];
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  const bulk = [];
  if (RUNNABLE.includes(state)) bulk.push(["run_all", "Run all", "POST", ""]);
  if (ARCHIVABLE.includes(state)) bulk.push(["archive_all", "Archive all", "POST", ""]);
  if (state !== "active") bulk.push(["delete_all", "Delete all", "DELETE", "danger"]);

  view.innerHTML = `
    <div class="toolbar">
      <div><h1>Queue ${esc(queue)} ${stats.paused ? '<span class="badge paused">paused</span>' : '<span class="badge run">running</span>'}</h1>
        <div class="sub">${num(stats.size)} tasks · latency ${esc(stats.display_latency)} · ${bytes(stats.memory_usage_bytes)} ·
          today ${num(stats.processed)} processed, ${num(stats.failed)} failed (${rate(stats.processed, stats.failed)})</div></div>
      <div class="actions">
        <button id="toggle-pause">${stats.paused ? "Resume queue" : "Pause queue"}</button>
        <button class="danger" id="remove-queue">Remove queue</button>
      </div>
    </div>
    ${stateBar(stats)}
    <nav class="tabs">${tabs}</nav>
    <div class="toolbar">
      <div class="actions">
        ${state === "aggregating" ? `<select id="group">${groups.map((g) => `<option ${g.group === group ? "selected" : ""} value="${esc(g.group)}">${esc(g.group)} (${g.size})</option>`).join("")}</select>` : ""}
        ${tasks.length ? bulk.map(([verb, label, method, cls]) => `<button class="${cls}" data-bulk="${verb}" data-method="${method}">${label}</button>`).join("") : ""}
        <span id="batch" class="actions"></span>
      </div>
      <div class="pager">
        ${page > 1 ? `<a class="button" href="${link(state, page - 1, group)}">‹ Previous</a>` : ""}
        <span>page ${page} of ${pages}</span>
        ${page < pages ? `<a class="button" href="${link(state, page + 1, group)}">Next ›</a>` : ""}
      </div>
    </div>
    <div class="panel">
      ${tasks.length ? `<table><thead><tr><th class="pick"><input type="checkbox" id="select-page" aria-label="select page"></th>
        ${columns.map(([name]) => `<th>${name}</th>`).join("")}<th></th></tr></thead>
        <tbody>${tasks.map((t) => `<tr><td class="pick"><input type="checkbox" data-select="${esc(t.id)}" ${selection.has(t.id) ? "checked" : ""} aria-label="select task"></td>
          ${columns.map(([, cell]) => `<td>${cell(t)}</td>`).join("")}
          <td><div class="actions">${rowActions(state, t)}</div></td></tr>`).join("")}</tbody></table>`
        : `<div class="empty">No ${state} tasks${state === "aggregating" && !groups.length ? " (no group)" : ""}.</div>`}
    </div>`;

  const q = encodeURIComponent(queue);
  document.getElementById("toggle-pause").onclick = () => act(
    `${stats.paused ? "Resume" : "Pause"} queue "${queue}"?`, `/queues/${q}:${stats.paused ? "resume" : "pause"}`,
    "POST", `Queue "${queue}" ${stats.paused ? "resumed" : "paused"}.`);
  document.getElementById("remove-queue").onclick = async () => {
    if (!(await confirmAction(`Remove queue "${queue}" and every task it holds? This cannot be undone.`))) return;
    try {
      await api(`/queues/${q}?force=true`, { method: "DELETE" });
      toast(`Queue "${queue}" removed.`);
      location.hash = "#/";
    } catch (error) { toast(error.message, true); }
  };
  const groupSelect = document.getElementById("group");
  if (groupSelect) groupSelect.onchange = () => { location.hash = link("aggregating", 1, groupSelect.value); };
  view.querySelectorAll("[data-bulk]").forEach((b) => {
    b.onclick = () => act(`${b.textContent} ${state} tasks of "${queue}"?`,
      `${tasksPath(queue, state, group)}:${b.dataset.bulk}`, b.dataset.method,
      (r) => `${b.textContent}: ${Object.values(r || {})[0] ?? 0} task(s).`);
  });
  view.querySelectorAll("[data-task]").forEach((b) => {
    b.onclick = () => taskAction(queue, state, group, b.dataset.task, b.dataset.verb);
  });
  wireSelection(queue, state, group, tasks);
}

function wireSelection(queue, state, group, tasks) {
  const scope = `${queue}|${state}|${group}`;
  if (scope !== selectionScope) { selection.clear(); selectionScope = scope; }
  const boxes = [...view.querySelectorAll("[data-select]")];
  const pageBox = document.getElementById("select-page");
  const refresh = () => {
    if (pageBox) pageBox.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    renderBatchBar(queue, state, group);
  };
  boxes.forEach((box) => {
    box.onchange = () => {
      if (box.checked) selection.add(box.dataset.select); else selection.delete(box.dataset.select);
      refresh();
    };
  });
  if (pageBox) {
    pageBox.onchange = () => {
      boxes.forEach((box) => {
        box.checked = pageBox.checked;
        if (box.checked) selection.add(box.dataset.select); else selection.delete(box.dataset.select);
      });
      refresh();
    };
  }
  refresh();
}

function renderBatchBar(queue, state, group) {
  const bar = document.getElementById("batch");
  if (!bar) return;
  if (!selection.size) { bar.innerHTML = ""; return; }
  const verbs = [];
  if (state === "active") verbs.push(["cancel", "Cancel"]);
  if (RUNNABLE.includes(state)) verbs.push(["run", "Run"]);
  if (ARCHIVABLE.includes(state)) verbs.push(["archive", "Archive"]);
  if (state !== "active") verbs.push(["delete", "Delete"]);
  bar.innerHTML = `<span class="sub">${selection.size} selected:</span>` + verbs.map(([verb, label]) =>
    `<button class="${verb === "delete" ? "danger" : "primary"}" data-batch="${verb}">${label} selected</button>`).join("");
  bar.querySelectorAll("[data-batch]").forEach((button) => {
    button.onclick = async () => {
      const ids = [...selection];
      if (!(await confirmAction(`${button.textContent}: ${ids.length} task(s) of "${queue}"?`))) return;
      try {
        const result = await api(`${tasksPath(queue, state, group)}:batch_${button.dataset.batch}`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ task_ids: ids }),
        });
        const [done, failed] = Object.values(result);
        toast(`${button.textContent}: ${done.length} done${failed.length ? `, ${failed.length} refused` : ""}.`, failed.length > 0);
        selection.clear();
        render();
      } catch (error) {
        toast(error.message, true);
      }
    };
  });
}

function taskAction(queue, state, group, id, verb) {
  const path = `${tasksPath(queue, state, group)}/${encodeURIComponent(id)}`;
  const words = { run: "Run", archive: "Archive", delete: "Delete", cancel: "Cancel" };
  return act(`${words[verb]} task ${id}?`, verb === "delete" ? path : `${path}:${verb}`,
    verb === "delete" ? "DELETE" : "POST", `${words[verb]}: done for task ${id}.`);
}

// --- task detail --------------------------------------------------------------------

async function taskPage(queue, id) {
  const t = await api(`/queues/${encodeURIComponent(queue)}/tasks/${encodeURIComponent(id)}`);
  const rows = [
    ["ID", `<span class="mono">${esc(t.id)}</span>`], ["Queue", `<a href="#/queues/${encodeURIComponent(t.queue)}?state=${t.state}">${esc(t.queue)}</a>`],
    ["Type", esc(t.type)], ["State", `<b>${esc(t.state)}</b>${t.is_orphaned ? ' <span class="badge warn">lease expired</span>' : ""}`],
    ["Retried", `${t.retried} of ${t.max_retry}`], ["Last error", t.error_message ? `<span class="error-text">${esc(t.error_message)}</span>` : "-"],
    ["Last failed", ago(t.last_failed_at)], ["Next run", ago(t.next_process_at)],
    ["Timeout", t.timeout_seconds ? span(t.timeout_seconds) : "-"], ["Deadline", ago(t.deadline)],
    ["Group", esc(t.group) || "-"], ["Completed", ago(t.completed_at)],
    ["Headers", Object.keys(t.headers).length ? `<code>${esc(JSON.stringify(t.headers))}</code>` : "-"],
    ["Payload", blob(t.payload, t.payload_format)], ["Result", blob(t.result, t.result_format)],
  ];
  const verbs = [];
  if (t.state === "active") verbs.push("cancel");
  if (RUNNABLE.includes(t.state)) verbs.push("run");
  if (ARCHIVABLE.includes(t.state)) verbs.push("archive");
  if (t.state !== "active") verbs.push("delete");
  view.innerHTML = `
    <div class="toolbar"><div><h1>Task ${esc(t.type)}</h1><div class="sub mono">${esc(t.id)}</div></div>
      <div class="actions">${verbs.map((v) => `<button class="${v === "delete" ? "danger" : ""}" data-verb="${v}">${v[0].toUpperCase() + v.slice(1)}</button>`).join("")}</div></div>
    <div class="panel detail">${rows.map(([k, v]) => `<div class="k">${k}</div><div>${v}</div>`).join("")}</div>`;
  view.querySelectorAll("[data-verb]").forEach((b) => {
    b.onclick = () => taskAction(t.queue, t.state, t.group, t.id, b.dataset.verb);
  });
}

// --- servers, schedulers, redis -----------------------------------------------------

async function serversPage() {
  const { servers } = await api("/servers");
  const workers = (s) => s.active_workers.length ? `<table>${s.active_workers.map((w) => `<tr>
      <td class="mono"><a href="#/queues/${encodeURIComponent(w.queue)}/tasks/${encodeURIComponent(w.task_id)}">${esc(w.task_id)}</a></td>
      <td>${esc(w.task_type)}</td><td>${esc(w.queue)}</td><td>started ${ago(w.start_time)}</td><td>deadline ${ago(w.deadline)}</td></tr>`).join("")}</table>` : `<span class="sub">idle</span>`;
  view.innerHTML = `<h1>Servers</h1><div class="sub">Worker servers that sent a heartbeat in the last seconds.</div>
    <div class="panel">${servers.length ? `<table><thead><tr><th>Host</th><th>PID</th><th>Status</th><th>Busy</th><th>Queues</th><th>Started</th><th>Running tasks</th></tr></thead>
      <tbody>${servers.map((s) => `<tr><td>${esc(s.host)}</td><td>${s.pid}</td><td><span class="badge ${s.status === "active" ? "run" : "paused"}">${esc(s.status)}</span></td>
        <td class="num">${s.active_workers.length}/${s.concurrency}</td>
        <td>${Object.entries(s.queue_priorities).map(([q, p]) => `${esc(q)}:${p}`).join(", ")}${s.strict_priority_enabled ? " (strict)" : ""}</td>
        <td>${ago(s.start_time)}</td><td>${workers(s)}</td></tr>`).join("")}</tbody></table>`
      : `<div class="empty">No server is running.</div>`}</div>`;
}

async function schedulersPage(params) {
  const { entries } = await api("/scheduler_entries");
  const selected = params.get("entry");
  let history = "";
  if (selected) {
    const { events } = await api(`/scheduler_entries/${encodeURIComponent(selected)}/enqueue_events?size=50`);
    history = `<h2>Enqueue history of ${esc(selected)}</h2><div class="panel">${events.length
      ? `<table><thead><tr><th>Task</th><th>Enqueued</th></tr></thead><tbody>${events.map((e) => `<tr><td class="mono">${esc(e.task_id)}</td><td>${ago(e.enqueued_at)}</td></tr>`).join("")}</tbody></table>`
      : `<div class="empty">No enqueue recorded yet.</div>`}</div>`;
  }
  view.innerHTML = `<h1>Schedulers</h1><div class="sub">Periodic tasks registered by live schedulers.</div>
    <div class="panel">${entries.length ? `<table><thead><tr><th>Entry ID</th><th>Spec</th><th>Type</th><th>Payload</th><th>Options</th><th>Next</th><th>Previous</th><th></th></tr></thead>
      <tbody>${entries.map((e) => `<tr><td class="mono">${esc(e.id)}</td><td class="mono">${esc(e.spec)}</td><td>${esc(e.task_type)}</td><td class="clip mono">${esc(e.task_payload)}</td>
        <td class="mono">${e.options.map(esc).join("<br>") || "-"}</td><td>${ago(e.next_enqueue_at)}</td><td>${ago(e.prev_enqueue_at)}</td>
        <td><a class="button" href="#/schedulers?entry=${encodeURIComponent(e.id)}">History</a></td></tr>`).join("")}</tbody></table>`
      : `<div class="empty">No scheduler entry is registered.</div>`}</div>${history}`;
}

// INFO fields shown on the Redis page, with the words an operator looks for.
const REDIS_FIELDS = [
  ["redis_version", "Version"], ["role", "Role"], ["uptime_in_days", "Uptime (days)"],
  ["connected_clients", "Connected clients"], ["used_memory_human", "Memory used"],
  ["used_memory_peak_human", "Peak memory used"], ["maxmemory_human", "Memory limit"],
  ["maxmemory_policy", "Eviction policy"], ["os", "Operating system"],
];

function redisValue(key, value) {
  if (key === "maxmemory_human" && /^0(\.0+)?B$/.test(String(value))) return "none";
  if (key === "maxmemory_policy" && value !== "noeviction") {
    return `${esc(value)} <span class="badge warn">tasks may be evicted: use noeviction</span>`;
  }
  return esc(value);
}

async function redisPage() {
  const { info } = await api("/redis_info");
  const rows = REDIS_FIELDS.filter(([key]) => key in info).map(([key, label]) =>
    `<div class="k">${label}<code>${key}</code></div><div>${redisValue(key, info[key])}</div>`);
  view.innerHTML = `<h1>Redis</h1><div class="sub">Figures from the server's INFO command.</div>
    <div class="panel detail wide">${rows.join("")}</div>`;
}

// --- router and refresh -------------------------------------------------------------

async function render() {
  if (busy) return;
  busy = true;
  const { parts, params } = route();
  const section = parts[0] || "dashboard";
  document.querySelectorAll("[data-nav]").forEach((a) => {
    a.classList.toggle("current", a.dataset.nav === (section === "queues" ? "dashboard" : section));
  });
  try {
    if (section === "queues" && parts[2] === "tasks") await taskPage(parts[1], parts[3]);
    else if (section === "queues" && parts[1]) await queuePage(parts[1], params);
    else if (section === "servers") await serversPage();
    else if (section === "schedulers") await schedulersPage(params);
    else if (section === "redis") await redisPage();
    else await dashboard();
  } catch (error) {
    view.innerHTML = `<div class="panel empty error-text">${esc(error.message)}</div>`;
  } finally {
    busy = false;
  }
}

function schedule() {
  clearInterval(timer);
  if (document.getElementById("live").checked) {
    timer = setInterval(() => {
      if (!document.getElementById("confirm").open && !document.hidden) render();
    }, Number(document.getElementById("interval").value));
  }
}

window.addEventListener("hashchange", render);
document.getElementById("live").addEventListener("change", schedule);
document.getElementById("interval").addEventListener("change", schedule);
render();
schedule();
