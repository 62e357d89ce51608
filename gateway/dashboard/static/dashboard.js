// GovHub supervision page (/dashboard). Plain JS, no build step, nothing fetched from
// outside the hub. It talks to the public GraphQL API only (POST /graphql, JSON) and
// never writes API data as HTML: every string goes in through textContent or
// setAttribute. The tokens live in this closure only (gone on reload or logout).
"use strict";

(() => {
  const ENDPOINT = "/graphql";
  const REFRESH_MARGIN_MS = 30 * 1000;
  const ONTIME_CHART_MAX = 12;

  const LEVEL_NAMES = { CITY: "市级", COUNTY: "县级", TOWN: "乡镇（街道）", VILLAGE: "村（社区）" };
  const RATING_BUCKETS = [
    { key: "verySatisfied", name: "非常满意", negative: false },
    { key: "satisfied", name: "满意", negative: false },
    { key: "basic", name: "基本满意", negative: false },
    { key: "dissatisfied", name: "不满意", negative: true },
    { key: "veryDissatisfied", name: "非常不满意", negative: true },
  ];
  // used when the hub gives no message of its own (it answers in Chinese by default)
  const FALLBACK_MESSAGES = {
    NETWORK: "无法连接服务器，请检查网络后重试。",
    HTTP: "服务器暂时无法处理请求，请稍后重试。",
    UNAUTHENTICATED: "登录已失效，请重新登录。",
    SESSION_EXPIRED: "登录已过期，请重新登录。",
    FORBIDDEN: "无权查看该区划的督查数据。",
    INVALID_PERIOD: "统计期间无效。",
    INVALID_DIVISION_CODE: "区划代码格式不正确。",
    UNKNOWN_DIVISION: "没有这个区划。",
    NODE_UNAVAILABLE: "部分层级节点暂无响应，数据不完整。",
    NO_JURISDICTION: "该账号没有辖区。",
  };

  const FIGURES = `
    received accepted completed completedOnTime onTimeRate immediate immediateShare
    immediateTargetMet promisedDays legalDays compressionRate online onlineRate onSite
    onSiteCompletionRate atMostOneVisit atMostOneVisitShare yellowCards redCards
    ratings { verySatisfied satisfied basic dissatisfied veryDissatisfied total }
    negativeRate complaints complaintsHandled complaintsOverdue`;

  const Q_LOGIN = `mutation DashboardLogin($input: LoginInput!) {
    login(input: $input) { accessToken refreshToken expiresIn errors { code field message } }
  }`;
  const Q_REFRESH = `mutation DashboardRefresh($input: RefreshInput!) {
    refreshSession(input: $input) { accessToken refreshToken expiresIn errors { code message } }
  }`;
  const Q_LOGOUT = `mutation DashboardLogout { logout { revoked } }`;
  const Q_ME = `query DashboardMe {
    me { username displayName kind roles jurisdictionCode jurisdiction { code name level } }
  }`;
  const Q_DIVISION = `query DashboardDivision($code: String!) {
    division(code: $code) {
      code name level
      children(first: 100) { edges { node { code name level } } }
    }
  }`;
  const Q_TOP = `query DashboardTop {
    divisions(level: CITY, first: 100) { edges { node { code name level } } }
  }`;
  const Q_SUPERVISION = `query DashboardSupervision($code: String!, $from: Date, $to: Date) {
    supervision(divisionCode: $code, from: $from, to: $to) {
      divisionCode from to unavailableLevels
      division { code name level }
      totals { ${FIGURES} }
      byLevel { level figures { ${FIGURES} } }
      byOrg { orgCode orgName level figures { ${FIGURES} } }
    }
  }`;

  const state = {
    access: null,
    refresh: null,
    expiresAt: 0,
    refreshing: null,
    viewer: null,
    today: null, // the hub's "today", from the first report (its default period ends there)
    seq: 0,
    report: null,
  };

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(code, message) {
      super(message || FALLBACK_MESSAGES[code] || FALLBACK_MESSAGES.HTTP);
      this.code = code;
    }
  }

  // ---------------------------------------------------------------- the API

  async function post(query, variables, withToken) {
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Accept-Language": "zh",
    };
    if (withToken && state.access) headers.Authorization = `Bearer ${state.access}`;
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: variables || {} }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (_err) {
      throw new ApiError("NETWORK");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_err) {
      body = null;
    }
    const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
    if (response.status === 401) {
      throw new ApiError("UNAUTHENTICATED", first && first.message);
    }
    if (!body || (!response.ok && !first)) {
      throw new ApiError("HTTP", `${FALLBACK_MESSAGES.HTTP}（HTTP ${response.status}）`);
    }
    return body;
  }

  function errorOf(entry) {
    const code = (entry.extensions && entry.extensions.code) || "ERROR";
    return new ApiError(code, entry.message);
  }

  function takeTokens(payload) {
    state.access = payload.accessToken;
    state.refresh = payload.refreshToken;
    state.expiresAt = Date.now() + Math.max(0, payload.expiresIn * 1000 - REFRESH_MARGIN_MS);
  }

  // one refresh at a time: a refresh token works once, a second use ends the session
  function refreshTokens() {
    if (!state.refreshing) {
      state.refreshing = (async () => {
        if (!state.refresh) throw new ApiError("SESSION_EXPIRED");
        const body = await post(Q_REFRESH, { input: { refreshToken: state.refresh } }, false);
        const payload = body.data && body.data.refreshSession;
        if (!payload || !payload.accessToken) {
          const err = payload && payload.errors && payload.errors[0];
          throw new ApiError("SESSION_EXPIRED", err ? err.message : null);
        }
        takeTokens(payload);
      })().finally(() => {
        state.refreshing = null;
      });
    }
    return state.refreshing;
  }

  async function signedIn(query, variables) {
    try {
      if (state.access && Date.now() >= state.expiresAt) await refreshTokens();
      try {
        return await post(query, variables, true);
      } catch (err) {
        if (err.code !== "UNAUTHENTICATED" || !state.refresh) throw err;
        await refreshTokens();
        return await post(query, variables, true);
      }
    } catch (err) {
      if (err.code === "SESSION_EXPIRED" || err.code === "UNAUTHENTICATED") {
        signOut(err);
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- formatting

  const intFormat = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });

  function fmtInt(n) {
    return n === null || n === undefined ? "—" : intFormat.format(n);
  }

  // one decimal, halves rounded up (the same on every browser)
  function fmtPct(v) {
    if (v === null || v === undefined) return "—";
    return `${(Math.round(v * 1000) / 10).toFixed(1)}%`;
  }

  function levelName(level) {
    return LEVEL_NAMES[level] || level;
  }

  function monthLabel(ym) {
    const [y, m] = ym.split("-");
    return `${y}年${Number(m)}月`;
  }

  function lastDayOfMonth(ym) {
    const [y, m] = ym.split("-").map(Number);
    const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return `${ym}-${String(days).padStart(2, "0")}`;
  }

  function shiftMonth(ym, delta) {
    const [y, m] = ym.split("-").map(Number);
    const index = y * 12 + (m - 1) + delta;
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  }

  // ---------------------------------------------------------------- DOM helpers

  function setText(node, text) {
    node.textContent = text === null || text === undefined ? "" : String(text);
  }

  function make(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) setText(node, text);
    if (className) node.className = className;
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function showError(node, err) {
    node.replaceChildren();
    node.append(make("span", err.message, "message"));
    if (err.code && !["NETWORK", "HTTP"].includes(err.code)) {
      node.append(" ", make("code", err.code, "code"));
    }
    node.dataset.code = err.code || "";
    node.hidden = false;
  }

  function hideError(node) {
    node.hidden = true;
    node.replaceChildren();
    delete node.dataset.code;
  }

  // ---------------------------------------------------------------- sign-in

  async function onLogin(event) {
    event.preventDefault();
    const button = $("login-button");
    hideError($("login-error"));
    button.disabled = true;
    try {
      const body = await post(
        Q_LOGIN,
        {
          input: {
            username: $("username").value.trim(),
            password: $("password").value,
            channel: "WEB",
          },
        },
        false,
      );
      if (body.errors && body.errors.length) throw errorOf(body.errors[0]);
      const payload = body.data.login;
      if (!payload.accessToken) {
        const err = payload.errors[0] || {};
        throw new ApiError(err.code || "ERROR", err.message);
      }
      takeTokens(payload);
      $("password").value = "";
      await start();
    } catch (err) {
      if (state.access) await logout();
      showError($("login-error"), err);
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    const body = await signedIn(Q_ME);
    if (body.errors && body.errors.length) throw errorOf(body.errors[0]);
    state.viewer = body.data.me;
    setText($("viewer-name"), `${state.viewer.displayName}（${state.viewer.username}）`);
    $("who").hidden = false;
    $("login-panel").hidden = true;
    $("report-panel").hidden = false;
    state.today = null;
    $("period").replaceChildren();
    await fillDivisions();
    await loadReport();
  }

  async function fillDivisions() {
    const select = $("division");
    select.replaceChildren();
    const code = state.viewer.jurisdictionCode;
    let options = [];
    if (code) {
      const body = await signedIn(Q_DIVISION, { code });
      const division = body.data && body.data.division;
      if (division) {
        options.push({ code: division.code, name: division.name, level: division.level });
        for (const edge of division.children.edges) {
          options.push({ ...edge.node, child: true });
        }
      } else {
        options.push({ code, name: code, level: null });
      }
    } else {
      // no jurisdiction (a resident, say): offer the cities; the hub decides who may read
      const body = await signedIn(Q_TOP);
      const edges = (body.data && body.data.divisions.edges) || [];
      options = edges.map((edge) => edge.node);
    }
    for (const option of options) {
      const label = `${option.child ? "　└ " : ""}${option.name}${
        option.level ? `（${levelName(option.level)}）` : ""
      }`;
      const node = make("option", label);
      node.value = option.code;
      select.append(node);
    }
  }

  function fillPeriods(today, selectedFrom) {
    const select = $("period");
    select.replaceChildren();
    const current = today.slice(0, 7);
    for (let i = 0; i < 12; i += 1) {
      const ym = shiftMonth(current, -i);
      const label = i === 0 ? `${monthLabel(ym)}（截至 ${Number(today.slice(8))} 日）` : monthLabel(ym);
      const node = make("option", label);
      node.value = ym;
      select.append(node);
    }
    select.value = selectedFrom.slice(0, 7);
  }

  function periodOf(ym) {
    if (!state.today || !ym) return { from: null, to: null };
    const last = lastDayOfMonth(ym);
    return { from: `${ym}-01`, to: last > state.today ? state.today : last };
  }

  async function logout() {
    if (state.access) {
      try {
        await post(Q_LOGOUT, {}, true);
      } catch (_err) {
        // the tokens are dropped here anyway; an expired session is already over
      }
    }
    signOut(null);
  }

  function signOut(err) {
    state.access = null;
    state.refresh = null;
    state.expiresAt = 0;
    state.viewer = null;
    state.report = null;
    state.seq += 1;
    $("who").hidden = true;
    $("report-panel").hidden = true;
    $("login-panel").hidden = false;
    clearReport();
    if (err) showError($("login-error"), err);
    else hideError($("login-error"));
  }

  // ---------------------------------------------------------------- the report

  async function loadReport() {
    const code = $("division").value;
    const { from, to } = periodOf($("period").value);
    const seq = ++state.seq;
    const report = $("report");
    report.dataset.state = "loading";
    setText($("status"), "正在查询……");
    hideError($("report-error"));
    $("refresh").disabled = true;
    try {
      const body = await signedIn(Q_SUPERVISION, { code, from, to });
      if (seq !== state.seq) return;
      const errors = body.errors || [];
      const fatal = errors.find((e) => !(e.extensions && e.extensions.code === "NODE_UNAVAILABLE"));
      const data = body.data && body.data.supervision;
      if (!data) throw errorOf(fatal || errors[0] || { message: FALLBACK_MESSAGES.HTTP });
      if (!state.today) {
        state.today = data.to;
        fillPeriods(data.to, data.from);
      }
      render(data);
      setText($("status"), `数据截至 ${data.to}`);
    } catch (err) {
      if (seq !== state.seq) return;
      clearReport();
      setText($("status"), "");
      if (state.viewer) showError($("report-error"), err);
    } finally {
      if (seq === state.seq) $("refresh").disabled = false;
    }
  }

  function clearReport() {
    const report = $("report");
    report.hidden = true;
    report.dataset.state = "empty";
    delete report.dataset.division;
    delete report.dataset.from;
    delete report.dataset.to;
    for (const node of document.querySelectorAll("[data-figure]")) setText(node, "—");
    for (const node of document.querySelectorAll("[data-sub]")) setText(node, "");
    for (const id of ["chart-levels", "chart-ratings", "chart-ontime"]) $(id).replaceChildren();
    document.querySelector("#org-table tbody").replaceChildren();
  }

  function figure(name, value, sub) {
    setText(document.querySelector(`[data-figure="${name}"]`), value);
    setText(document.querySelector(`[data-sub="${name}"]`), sub || "");
  }

  function render(data) {
    state.report = data;
    const t = data.totals;
    const name = data.division ? data.division.name : data.divisionCode;
    setText($("report-title"), `${name}（${data.divisionCode}）　${data.from} 至 ${data.to}`);

    const partial = $("partial");
    if (data.unavailableLevels.length) {
      setText(
        partial,
        `以下层级节点未响应，数据不完整：${data.unavailableLevels.map(levelName).join("、")}`,
      );
      partial.hidden = false;
    } else {
      partial.hidden = true;
    }

    figure("received", fmtInt(t.received), `网上 ${fmtInt(t.online)} 件`);
    figure("accepted", fmtInt(t.accepted), `占收件 ${fmtPct(t.received ? t.accepted / t.received : null)}`);
    figure("completed", fmtInt(t.completed), `即办 ${fmtInt(t.immediate)} 件`);
    figure("onTimeRate", fmtPct(t.onTimeRate), `按时 ${fmtInt(t.completedOnTime)} / 办结 ${fmtInt(t.completed)}`);
    const tile = $("tile-immediate");
    tile.classList.remove("target-met", "target-missed");
    let targetNote = "本期无办结件";
    if (t.immediateTargetMet === true) {
      tile.classList.add("target-met");
      targetNote = "已达 70% 目标";
    } else if (t.immediateTargetMet === false) {
      tile.classList.add("target-missed");
      targetNote = "未达 70% 目标";
    }
    figure("immediateShare", fmtPct(t.immediateShare), `即办 ${fmtInt(t.immediate)} 件 · ${targetNote}`);
    figure(
      "compressionRate",
      fmtPct(t.compressionRate),
      t.compressionRate === null
        ? "本期无收件"
        : `承诺 ${fmtInt(t.promisedDays)} 天 / 法定 ${fmtInt(t.legalDays)} 天`,
    );
    figure("onlineRate", fmtPct(t.onlineRate), `网上收件 ${fmtInt(t.online)} 件`);
    figure("onSiteCompletionRate", fmtPct(t.onSiteCompletionRate), `当场办结 ${fmtInt(t.onSite)} 件`);
    figure("atMostOneVisitShare", fmtPct(t.atMostOneVisitShare), `0 或 1 次跑动 ${fmtInt(t.atMostOneVisit)} 件`);
    figure("yellowCards", fmtInt(t.yellowCards), "预警");
    figure("redCards", fmtInt(t.redCards), "超期");
    figure("rated", fmtInt(t.ratings.total), `差评 ${fmtInt(t.ratings.dissatisfied + t.ratings.veryDissatisfied)} 条`);
    figure("negativeRate", fmtPct(t.negativeRate), "不满意与非常不满意");
    figure(
      "complaints",
      fmtInt(t.complaints),
      `已处理 ${fmtInt(t.complaintsHandled)} · 超期 ${fmtInt(t.complaintsOverdue)}`,
    );

    drawLevels(data.byLevel);
    drawRatings(t.ratings);
    drawOnTime(data.byOrg);
    fillTable(data.byOrg);

    const report = $("report");
    report.dataset.division = data.divisionCode;
    report.dataset.from = data.from;
    report.dataset.to = data.to;
    report.hidden = false;
    report.dataset.state = "ready";
  }

  // ---------------------------------------------------------------- charts (SVG)

  // a vertical bar chart: groups along x, one bar per series in each group
  function columnChart(container, { groups, series, groupAttr, format, emptyNote }) {
    container.replaceChildren();
    const width = 420;
    const height = 230;
    const top = 22;
    const bottom = 44;
    const left = 12;
    const right = 12;
    const plotHeight = height - top - bottom;
    const max = Math.max(1, ...groups.flatMap((g) => g.values));
    const slot = (width - left - right) / Math.max(1, groups.length);
    const gap = Math.min(16, slot * 0.2);
    const barWidth = Math.min(46, (slot - gap) / series.length);
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      class: "chart-svg",
    });
    root.append(svg("line", { x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight, class: "axis" }));
    groups.forEach((group, gi) => {
      const g = svg("g", { class: "group", [groupAttr]: group.key });
      const groupWidth = barWidth * series.length;
      const x0 = left + gi * slot + (slot - groupWidth) / 2;
      series.forEach((s, si) => {
        const value = group.values[si];
        const h = (value / max) * plotHeight;
        const x = x0 + si * barWidth;
        const y = top + plotHeight - h;
        const cls = typeof s.className === "function" ? s.className(group) : s.className;
        const rect = svg("rect", {
          x: x + 1,
          y,
          width: Math.max(1, barWidth - 2),
          height: h,
          class: cls,
          "data-series": s.key,
          "data-value": value,
        });
        rect.append(svg("title", {}, `${group.label} · ${s.name}：${format(value)}`));
        g.append(rect);
        g.append(svg("text", { x: x + barWidth / 2, y: y - 5, class: "value", "text-anchor": "middle" }, format(value)));
      });
      g.append(svg("text", { x: left + gi * slot + slot / 2, y: top + plotHeight + 18, class: "label", "text-anchor": "middle" }, group.label));
      root.append(g);
    });
    if (emptyNote && groups.every((g) => g.values.every((v) => v === 0))) {
      root.append(svg("text", { x: width / 2, y: top + plotHeight / 2, class: "empty", "text-anchor": "middle" }, emptyNote));
    }
    if (series.length > 1) {
      const legend = svg("g", { class: "legend" });
      series.forEach((s, si) => {
        const x = left + si * 90;
        legend.append(svg("rect", { x, y: height - 14, width: 12, height: 10, class: s.className }));
        legend.append(svg("text", { x: x + 16, y: height - 5, class: "label" }, s.name));
      });
      root.append(legend);
    }
    container.append(root);
  }

  function drawLevels(byLevel) {
    columnChart($("chart-levels"), {
      groups: byLevel.map((row) => ({
        key: row.level,
        label: levelName(row.level),
        values: [row.figures.received, row.figures.completed],
      })),
      series: [
        { key: "received", name: "收件", className: "bar" },
        { key: "completed", name: "办结", className: "bar bar-alt" },
      ],
      groupAttr: "data-level",
      format: fmtInt,
      emptyNote: "本期暂无收件或办结",
    });
  }

  function drawRatings(ratings) {
    columnChart($("chart-ratings"), {
      groups: RATING_BUCKETS.map((b) => ({ key: b.key, label: b.name, values: [ratings[b.key]], negative: b.negative })),
      series: [
        {
          key: "ratings",
          name: "评价",
          className: (group) => (group.negative ? "bar bar-negative" : "bar"),
        },
      ],
      groupAttr: "data-bucket",
      format: fmtInt,
      emptyNote: "本期暂无评价",
    });
  }

  function shorten(text, n) {
    return text.length > n ? `${text.slice(0, n - 1)}…` : text;
  }

  // horizontal bars: the orgs that completed cases, lowest on-time rate first
  function drawOnTime(byOrg) {
    const container = $("chart-ontime");
    container.replaceChildren();
    const rows = byOrg
      .filter((row) => row.figures.onTimeRate !== null)
      .sort((a, b) => a.figures.onTimeRate - b.figures.onTimeRate || (a.orgCode < b.orgCode ? -1 : 1));
    const shown = rows.slice(0, ONTIME_CHART_MAX);
    setText(
      $("ontime-note"),
      rows.length > shown.length ? `（按时率最低的 ${shown.length} 个，共 ${rows.length} 个）` : "",
    );
    if (!shown.length) {
      container.append(make("p", "本期没有办结件。", "hint"));
      return;
    }
    const width = 420;
    const rowHeight = 22;
    const top = 6;
    const labelWidth = 150;
    const valueWidth = 56;
    const height = top * 2 + shown.length * rowHeight;
    const plotWidth = width - labelWidth - valueWidth;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg" });
    shown.forEach((row, i) => {
      const y = top + i * rowHeight;
      const rate = row.figures.onTimeRate;
      const g = svg("g", { class: "group", "data-org": row.orgCode });
      const label = svg("text", { x: labelWidth - 6, y: y + 15, class: "label", "text-anchor": "end" }, shorten(row.orgName, 11));
      label.append(svg("title", {}, row.orgName));
      g.append(label);
      g.append(svg("rect", { x: labelWidth, y: y + 3, width: plotWidth, height: rowHeight - 6, class: "track" }));
      const rect = svg("rect", {
        x: labelWidth,
        y: y + 3,
        width: Math.max(rate > 0 ? 1 : 0, rate * plotWidth),
        height: rowHeight - 6,
        class: rate < 0.9 ? "bar bar-negative" : "bar",
        "data-value": rate,
      });
      rect.append(svg("title", {}, `${row.orgName}：${fmtPct(rate)}（按时 ${row.figures.completedOnTime} / 办结 ${row.figures.completed}）`));
      g.append(rect);
      g.append(svg("text", { x: labelWidth + plotWidth + 6, y: y + 15, class: "value" }, fmtPct(rate)));
      root.append(g);
    });
    container.append(root);
  }

  // ---------------------------------------------------------------- table

  function active(f) {
    return (
      f.received > 0 ||
      f.completed > 0 ||
      f.ratings.total > 0 ||
      f.complaints > 0 ||
      f.yellowCards > 0 ||
      f.redCards > 0
    );
  }

  function fillTable(byOrg) {
    const tbody = document.querySelector("#org-table tbody");
    tbody.replaceChildren();
    const activeOnly = $("active-only").checked;
    const rows = activeOnly ? byOrg.filter((row) => active(row.figures)) : byOrg;
    for (const row of rows) {
      const f = row.figures;
      const tr = make("tr");
      tr.dataset.org = row.orgCode;
      const name = make("th", row.orgName);
      name.scope = "row";
      tr.append(name);
      const cells = [
        levelName(row.level),
        fmtInt(f.received),
        fmtInt(f.accepted),
        fmtInt(f.completed),
        fmtPct(f.onTimeRate),
        fmtPct(f.immediateShare),
        fmtPct(f.onlineRate),
        fmtInt(f.yellowCards),
        fmtInt(f.redCards),
        fmtPct(f.negativeRate),
        fmtInt(f.complaints),
      ];
      for (const text of cells) tr.append(make("td", text));
      tbody.append(tr);
    }
    $("org-empty").hidden = rows.length > 0;
  }

  // ---------------------------------------------------------------- wiring

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", () => {
      logout();
    });
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      loadReport();
    });
    $("division").addEventListener("change", () => loadReport());
    $("period").addEventListener("change", () => loadReport());
    $("active-only").addEventListener("change", () => {
      if (state.report) fillTable(state.report.byOrg);
    });
    document.body.dataset.ready = "true";
  });
})();
