// 利用状況: the managers' dashboard for one month (GET /api/v1/usage/dashboard?month=YYYY-MM).
// The API counts every month, day and fiscal year in Asia/Tokyo; this page only formats and draws what
// it returns. Months are handled as "YYYY-MM" strings with integer arithmetic, never as Date objects, so
// the browser's own time zone can never move a figure to another day or month.
import { $, KIND_LABELS, announce, api, appendChildren, errorText, h, initLayout, showMessage } from "./common.js";

initLayout();

const SVG_NS = "http://www.w3.org/2000/svg";
const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const MAX_EXPORT_MONTHS = 13; // the API's limit
const TREND_MONTHS = 12;
// The same wording as the API's CSV export, so the page and the file agree.
const SOURCE_LABELS = { web: "画面から", device: "会議室機器", api: "API" };
const VIEW_LABELS = {
  department: "部署別",
  monthly: "月別の合計",
  daily: "日別",
  source: "経路別",
  kind: "種類別",
  quality: "修正率",
};

const els = {
  body: $("usage-body"),
  error: $("usage-error"),
  capAlerts: $("cap-alerts"),
  monthTitle: $("month-title"),
  monthForm: $("month-form"),
  monthInput: $("month-input"),
  prev: $("prev-month"),
  prevLabel: $("prev-label"),
  next: $("next-month"),
  nextLabel: $("next-label"),
  thisMonth: $("this-month"),
  summary: $("summary"),
  summaryTitle: $("summary-title"),
  dailyChart: $("daily-chart"),
  dailyTable: $("daily-table-wrap"),
  dailyToggle: $("daily-toggle"),
  dept: $("dept"),
  source: $("source"),
  kind: $("kind"),
  trendChart: $("trend-chart"),
  trendTable: $("trend-table-wrap"),
  trendToggle: $("trend-toggle"),
  fiscal: $("fiscal"),
  quality: $("quality"),
  exportForm: $("export-form"),
  exportView: $("export-view"),
  exportStart: $("export-start"),
  exportEnd: $("export-end"),
  exportNote: $("export-note"),
  exportCsv: $("export-csv"),
  exportXlsx: $("export-xlsx"),
};

let requestNo = 0; // answers to an older month request are dropped

// --- numbers (Japanese style: 1,234.5 時間) ------------------------------------------------------

const oneDecimal = new Intl.NumberFormat("ja-JP", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const upToOne = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 1 });
const upToTwo = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 0 });

/** A finite number, or null (missing, null, NaN and Infinity are never shown). */
function finite(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

const orZero = (value) => finite(value) ?? 0;
const dash = "—";

/** 12.5 時間; under an hour in minutes (25 分), where 0.4 時間 would hide what was used. */
function fmtHours(value) {
  const n = finite(value);
  if (n === null) return dash;
  const minutes = Math.round(n * 60);
  if (n > 0 && minutes < 60) return `${whole.format(Math.max(1, minutes))} 分`;
  return `${oneDecimal.format(n)} 時間`;
}

/** A target such as 1,870 時間 (no ".0" on a whole number). */
function fmtTarget(value) {
  const n = finite(value);
  return n === null ? dash : `${upToOne.format(n)} 時間`;
}

function fmtPercent(value) {
  const n = finite(value);
  return n === null ? dash : `${oneDecimal.format(n)}%`;
}

function fmtCount(value) {
  return `${whole.format(orZero(value))} 件`;
}

function fmtMinutes(value) {
  const n = finite(value);
  return n === null ? dash : `${oneDecimal.format(n)} 分`;
}

/** part ÷ whole as a percentage, or null when the whole is zero (no division by zero). */
function share(part, total) {
  const p = finite(part);
  const t = finite(total);
  return p === null || !t ? null : (p / t) * 100;
}

// --- months as "YYYY-MM" strings ---------------------------------------------------------------

function monthIndex(text) {
  const m = MONTH_RE.exec(text || "");
  return m ? Number(m[1]) * 12 + Number(m[2]) - 1 : null;
}

function shiftMonth(text, delta) {
  const index = monthIndex(text) + delta;
  return `${String(Math.floor(index / 12)).padStart(4, "0")}-${String((index % 12) + 1).padStart(2, "0")}`;
}

function monthLabel(text) {
  const m = MONTH_RE.exec(text || "");
  return m ? `${Number(m[1])}年${Number(m[2])}月` : text || "";
}

function shortMonth(text) {
  const m = MONTH_RE.exec(text || "");
  return m ? `${Number(m[2])}月` : text || "";
}

/** "2026-04-15" → "4月15日" by reading the string (the API's date is already a Tokyo date). */
function dayLabel(iso) {
  const [, month, day] = String(iso || "").split("-");
  return month && day ? `${Number(month)}月${Number(day)}日` : String(iso || "");
}

function dayNumber(iso) {
  return Number(String(iso || "").split("-")[2]) || 0;
}

function usageUrl(month) {
  return month ? `/usage?month=${month}` : "/usage";
}

// --- building blocks: SVG, tables, meters, badges -------------------------------------------------

/** An SVG element: s("rect", {x: 1}, child…). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(key, String(value));
  }
  return appendChildren(el, children);
}

/** SVG text at (x, y). */
function svgText(x, y, text, className, anchor = "start", extra = {}) {
  return s("text", { x, y, class: className, "text-anchor": anchor, ...extra }, text);
}

let chartNo = 0;
/** An <svg role="img"> named by its <title> and described by its <desc>. */
function chartSvg(width, height, title, desc, className) {
  chartNo += 1;
  const titleId = `chart-title-${chartNo}`;
  const descId = `chart-desc-${chartNo}`;
  const svg = s(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
      class: `chart-svg ${className || ""}`,
      preserveAspectRatio: "xMidYMid meet",
    },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, desc),
  );
  // Scaled to the card's width, but not much past the drawn size, so its text stays near 12px.
  svg.style.maxWidth = `${Math.round(width * 1.25)}px`;
  return svg;
}

/** A rounded-up axis maximum and its ticks (about four steps of 1, 2, 2.5 or 5 × 10ⁿ). */
function axis(maxValue) {
  const top = finite(maxValue) && maxValue > 0 ? maxValue : 1;
  const rough = top / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) || power * 10;
  const max = Math.ceil(top / step - 1e-9) * step;
  const ticks = [];
  for (let i = 0; i * step <= max + step / 1000; i += 1) ticks.push(Math.round(i * step * 1e6) / 1e6);
  return { max, ticks };
}

/**
 * A table: headers [{text, num}], rows of cells (the first is the row header). ``caption`` is read out
 * by screen readers; it is shown only when ``showCaption``.
 */
function table(caption, headers, rows, { showCaption = false, className = "" } = {}) {
  return h(
    "table",
    { class: `table usage-table ${className}` },
    h("caption", { class: showCaption ? "" : "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.text)))),
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h(
          "tr",
          {},
          cells.map((cell, i) =>
            i === 0
              ? h("th", { scope: "row" }, cell)
              : h("td", { class: headers[i] && headers[i].num ? "num" : null }, cell),
          ),
        ),
      ),
    ),
  );
}

/**
 * A progress bar that stays accessible past 100 %: the bar is capped, the text says the real figure.
 * ``mark`` (0–100) draws where the month should be by now.
 */
function meter(percent, name, label, { mark = null, id = null } = {}) {
  const value = finite(percent) ?? 0;
  const shown = Math.max(0, Math.min(100, value));
  const fill = h("div", { class: `meter-fill${value >= 100 ? " is-done" : ""}` });
  fill.style.width = `${shown}%`;
  const bar = h(
    "div",
    {
      class: "meter",
      id,
      role: "progressbar",
      "aria-label": name,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(Math.round(shown * 10) / 10),
      "aria-valuetext": label,
    },
    fill,
  );
  const markValue = finite(mark);
  if (markValue !== null && markValue > 0 && markValue < 100) {
    const line = h("div", { class: "meter-mark", title: "今日までの目安" });
    line.style.left = `${markValue}%`;
    bar.append(line);
  }
  return bar;
}

function capBadge(row) {
  if (row.alert === 100) return h("span", { class: "badge badge-cap-over" }, "上限に達しました");
  if (row.alert === 80) return h("span", { class: "badge badge-cap-near" }, "上限の80%を超えました");
  if (finite(row.cap_hours)) return h("span", { class: "badge badge-cap-ok" }, "上限内");
  return h("span", { class: "hint-inline" }, "上限なし");
}

function emptyState(text) {
  return h("p", { class: "empty usage-empty" }, text);
}

/** Horizontal bars for a breakdown: items [{label, value, text}]. */
function barChart(items, title, desc, { width = 640, labelWidth = 200 } = {}) {
  const valueWidth = 100;
  const rowHeight = 30;
  const height = items.length * rowHeight + 8;
  const svg = chartSvg(width, height, title, desc, "bar-chart");
  const max = Math.max(0, ...items.map((item) => orZero(item.value)));
  const plot = width - labelWidth - valueWidth;
  items.forEach((item, i) => {
    const y = 4 + i * rowHeight;
    const length = max > 0 ? (orZero(item.value) / max) * plot : 0;
    // Long names are shortened on the chart only; the table and the bar's <title> give them in full.
    const room = Math.floor((labelWidth - 14) / 13);
    const label = item.label.length > room ? `${item.label.slice(0, room - 1)}…` : item.label;
    svg.append(
      s(
        "g",
        { class: "bar-row" },
        s("title", {}, `${item.label}: ${item.text}`),
        svgText(labelWidth - 10, y + rowHeight / 2, label, "bar-label", "end"),
        s("rect", { x: labelWidth, y: y + 5, width: Math.max(length, 0), height: rowHeight - 10, rx: 3, class: "bar" }),
        svgText(labelWidth + length + 8, y + rowHeight / 2, item.text, "bar-value"),
      ),
    );
  });
  return svg;
}

/** A show/hide button for a chart's data table. */
function wireToggle(button, panel) {
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "表を閉じる" : "表で見る";
    panel.hidden = !open;
  });
}

// --- the month's summary -----------------------------------------------------------------------

/** past, current or future, from the API's elapsed days (the server knows today's Tokyo date). */
function phaseOf(data) {
  const elapsed = orZero(data.elapsed_days);
  const total = orZero(data.days_in_month);
  if (elapsed <= 0) return "future";
  if (elapsed >= total) return "past";
  return "current";
}

function renderSummary(data) {
  const phase = phaseOf(data);
  const used = orZero(data.used_hours);
  const target = orZero(data.target_hours);
  const percent = finite(data.percent);
  const total = orZero(data.days_in_month);
  const elapsed = orZero(data.elapsed_days);
  const remaining = Math.max(0, total - elapsed);
  const expectedPercent = phase === "current" && total > 0 ? (elapsed / total) * 100 : null;
  const meterText = `目標 ${fmtTarget(target)} に対して ${fmtHours(used)}(${fmtPercent(percent)})`;

  const facts = [
    ["録音の件数", fmtCount(data.recordings)],
    ["1件の平均の長さ", orZero(data.recordings) ? fmtMinutes(data.average_minutes) : dash],
  ];
  if (phase === "current") {
    facts.push(["月末の見込み", `${fmtHours(data.projection_hours)}(今のペースが続いた場合)`]);
    facts.push(["今のペース", `1日あたり ${fmtHours(data.pace_hours_per_day)}`]);
    facts.push([
      "目標に必要なペース",
      used >= target
        ? "目標に達しました"
        : `残り ${upToOne.format(remaining)} 日、1日あたり ${fmtHours(data.needed_hours_per_day)}`,
    ]);
  } else if (phase === "past") {
    facts.push(["1日あたりの平均", fmtHours(data.pace_hours_per_day)]);
    facts.push([
      "目標との差",
      used >= target ? "目標に達しました" : `目標まで ${fmtHours(target - used)} 足りませんでした`,
    ]);
  } else {
    facts.push(["目標に必要なペース", `1日あたり ${fmtHours(data.needed_hours_per_day)}`]);
  }

  const note =
    phase === "future"
      ? h("p", { class: "alert alert-info usage-note" }, "まだ始まっていない月です。")
      : orZero(data.recordings) === 0
        ? emptyState(phase === "past" ? "この月の利用はありませんでした。" : "この月の利用はまだありません。")
        : null;

  els.summary.replaceChildren(
    h(
      "p",
      { class: "big-figure" },
      h("span", { class: "big-number", id: "used-hours" }, fmtHours(used)),
      h("span", { class: "big-of" }, ` / 目標 ${fmtTarget(target)}`),
    ),
    meter(percent, `${monthLabel(data.month)}の目標に対する利用時間`, meterText, {
      mark: expectedPercent,
      id: "month-meter",
    }),
    h(
      "p",
      { class: "meter-caption" },
      h("strong", { id: "used-percent" }, fmtPercent(percent)),
      " 目標に対する達成率",
      expectedPercent !== null
        ? h("span", { class: "hint-inline" }, `(縦線は今日までの目安 ${fmtPercent(expectedPercent)})`)
        : null,
    ),
    ...(note ? [note] : []),
    h(
      "dl",
      { class: "facts usage-facts", id: "month-facts" },
      facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
  );
}

// --- the daily cumulative chart ------------------------------------------------------------------

function renderDaily(data) {
  const days = Array.isArray(data.days) ? data.days : [];
  const total = days.length;
  const target = orZero(data.target_hours);
  const phase = phaseOf(data);
  const label = monthLabel(data.month);
  const known = days.filter((d) => finite(d.cumulative) !== null);
  const last = known.length ? known[known.length - 1] : null;
  const projection = phase === "current" ? finite(data.projection_hours) : null;

  const width = 640;
  const height = 290;
  const m = { left: 62, right: 18, top: 14, bottom: 46 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const peak = Math.max(target, ...known.map((d) => orZero(d.cumulative)), projection ?? 0);
  const { max, ticks } = axis(peak);
  const x = (day) => m.left + (total > 0 ? (day / total) * plotW : 0);
  const y = (value) => m.top + plotH - (orZero(value) / max) * plotH;

  const desc =
    phase === "future"
      ? `${label}はまだ始まっていません。目標線は月末に ${fmtTarget(target)} です。`
      : `${label}の1日から${last ? dayNumber(last.date) : 0}日までの累計は ${fmtHours(last ? last.cumulative : 0)}。` +
        `目標線は月末に ${fmtTarget(target)} です。` +
        (projection !== null ? `今のペースでは月末に ${fmtHours(projection)} の見込みです。` : "");
  const svg = chartSvg(width, height, `${label}の日ごとの累計利用時間と目標線`, desc, "line-chart");

  const grid = s("g", { class: "grid" });
  for (const tick of ticks) {
    grid.append(
      s("line", { x1: m.left, x2: width - m.right, y1: y(tick), y2: y(tick), class: "grid-line" }),
      svgText(m.left - 8, y(tick), upToTwo.format(tick), "axis-label", "end"),
    );
  }
  svg.append(grid);
  const xTicks = new Set([1, 5, 10, 15, 20, 25, total].filter((d) => d >= 1 && d <= total));
  const xAxis = s("g", { class: "x-axis" });
  xAxis.append(s("line", { x1: m.left, x2: width - m.right, y1: y(0), y2: y(0), class: "axis-line" }));
  for (const day of xTicks) {
    xAxis.append(svgText(x(day), height - m.bottom + 18, day, "axis-label", "middle"));
  }
  xAxis.append(
    svgText(m.left + plotW / 2, height - 6, "日(日本時間)", "axis-title", "middle"),
    svgText(14, m.top + plotH / 2, "累計(時間)", "axis-title", "middle", {
      transform: `rotate(-90 14 ${m.top + plotH / 2})`,
    }),
  );
  svg.append(xAxis);

  if (total > 0) {
    const targetPoints = [[0, 0], ...days.map((d, i) => [i + 1, orZero(d.target_line)])];
    svg.append(
      s("polyline", {
        points: targetPoints.map(([d, v]) => `${x(d)},${y(v)}`).join(" "),
        class: "target-line",
        "data-series": "target",
      }),
    );
  }
  if (last) {
    const points = [[0, 0], ...known.map((d) => [dayNumber(d.date), orZero(d.cumulative)])];
    if (projection !== null) {
      svg.append(
        s("line", {
          x1: x(dayNumber(last.date)),
          y1: y(last.cumulative),
          x2: x(total),
          y2: y(projection),
          class: "projection-line",
        }),
      );
    }
    svg.append(
      s("polyline", {
        points: points.map(([d, v]) => `${x(d)},${y(v)}`).join(" "),
        class: "used-line",
        "data-series": "used",
        "data-points": String(known.length),
      }),
    );
    for (const d of known) {
      svg.append(
        s(
          "circle",
          { cx: x(dayNumber(d.date)), cy: y(d.cumulative), r: 2.6, class: "used-dot" },
          s("title", {}, `${dayLabel(d.date)}: その日 ${fmtHours(d.hours)}、累計 ${fmtHours(d.cumulative)}`),
        ),
      );
    }
  }

  const legend = h(
    "ul",
    { class: "chart-legend", "aria-hidden": "true" },
    h("li", {}, h("span", { class: "swatch swatch-used" }), "累計の利用時間"),
    h("li", {}, h("span", { class: "swatch swatch-target" }), "目標線(月末に目標時間)"),
    projection !== null ? h("li", {}, h("span", { class: "swatch swatch-projection" }), "月末の見込み") : null,
  );
  els.dailyChart.replaceChildren(svg, legend);

  const rows = days.map((d) => [
    dayLabel(d.date),
    finite(d.hours) === null ? "(まだ来ていない日)" : fmtHours(d.hours),
    fmtHours(d.cumulative),
    fmtHours(d.target_line),
  ]);
  els.dailyTable.replaceChildren(
    table(
      `${label}の日ごとの利用時間`,
      [{ text: "日付" }, { text: "その日の利用", num: true }, { text: "累計", num: true }, { text: "目標線", num: true }],
      rows,
      { className: "daily-table" },
    ),
  );
}

// --- breakdowns ----------------------------------------------------------------------------------

function renderDepartments(data) {
  const rows = Array.isArray(data.by_department) ? data.by_department : [];
  if (!rows.length) {
    els.dept.replaceChildren(emptyState(`${monthLabel(data.month)}に利用した部署はありません。`));
    return;
  }
  const used = orZero(data.used_hours);
  const chart = barChart(
    rows.map((r) => ({ label: r.department, value: r.hours, text: fmtHours(r.hours) })),
    `部署別の利用時間(${monthLabel(data.month)})`,
    rows.map((r) => `${r.department} ${fmtHours(r.hours)}`).join("、"),
    { width: 760, labelWidth: 230 },
  );
  const body = rows.map((r) => [
    r.department,
    fmtHours(r.hours),
    fmtPercent(share(r.hours, used)),
    fmtCount(r.recordings),
    fmtMinutes(r.average_minutes),
    finite(r.cap_hours) ? fmtTarget(r.cap_hours) : dash,
    fmtPercent(r.cap_percent),
    capBadge(r),
  ]);
  els.dept.replaceChildren(
    h("div", { class: "chart" }, chart),
    h(
      "div",
      { class: "table-wrap" },
      table(
        `部署別の利用時間と月の上限(${monthLabel(data.month)})`,
        [
          { text: "部署" },
          { text: "利用時間", num: true },
          { text: "月の割合", num: true },
          { text: "件数", num: true },
          { text: "平均の長さ", num: true },
          { text: "月の上限", num: true },
          { text: "上限に対して", num: true },
          { text: "状態" },
        ],
        body,
        { className: "dept-table" },
      ),
    ),
  );
}

/** 経路別 / 種類別: the API's rows in its order, then the known keys it did not list, at zero. */
function renderBreakdown(container, data, field, labels, heading) {
  const rows = Array.isArray(data[`by_${field}`]) ? data[`by_${field}`] : [];
  if (!rows.length) {
    container.replaceChildren(emptyState("この月の利用はありません。"));
    return;
  }
  const listed = new Set(rows.map((r) => r[field]));
  const all = [
    ...rows,
    ...Object.keys(labels)
      .filter((key) => !listed.has(key))
      .map((key) => ({ [field]: key, hours: 0, recordings: 0, average_minutes: null })),
  ];
  const used = orZero(data.used_hours);
  const name = (r) => labels[r[field]] || String(r[field]);
  container.replaceChildren(
    h(
      "div",
      { class: "chart" },
      barChart(
        all.map((r) => ({ label: name(r), value: r.hours, text: fmtHours(r.hours) })),
        `${heading}の利用時間(${monthLabel(data.month)})`,
        all.map((r) => `${name(r)} ${fmtHours(r.hours)}`).join("、"),
        { width: 440, labelWidth: 110 },
      ),
    ),
    h(
      "div",
      { class: "table-wrap" },
      table(
        `${heading}の利用時間(${monthLabel(data.month)})`,
        [
          { text: heading.replace("別", "") },
          { text: "利用時間", num: true },
          { text: "割合", num: true },
          { text: "件数", num: true },
          { text: "平均の長さ", num: true },
        ],
        all.map((r) => [
          name(r),
          fmtHours(r.hours),
          fmtPercent(share(r.hours, used)),
          fmtCount(r.recordings),
          orZero(r.recordings) ? fmtMinutes(r.average_minutes) : dash,
        ]),
        { className: `${field}-table` },
      ),
    ),
  );
}

function renderCapAlerts(data) {
  const rows = (Array.isArray(data.by_department) ? data.by_department : []).filter((r) => r.alert);
  if (!rows.length) {
    els.capAlerts.hidden = true;
    els.capAlerts.replaceChildren();
    return;
  }
  const over = rows.filter((r) => r.alert === 100);
  const near = rows.filter((r) => r.alert === 80);
  const line = (title, list) =>
    list.length
      ? h("li", {}, `${title}: `, list.map((r) => `${r.department}(${fmtPercent(r.cap_percent)})`).join("、"))
      : null;
  els.capAlerts.hidden = false;
  els.capAlerts.replaceChildren(
    h("strong", {}, `${monthLabel(data.month)}に月の上限に近づいた部署があります。`),
    h("ul", { class: "cap-list" }, line("上限に達した部署", over), line("上限の80%を超えた部署", near)),
  );
}

function renderQuality(data) {
  const rows = Array.isArray(data.quality) ? [...data.quality] : [];
  if (!rows.length) {
    els.quality.replaceChildren(emptyState("この月に職員が保存した議事録はまだありません。"));
    return;
  }
  rows.sort(
    (a, b) =>
      String(a.department).localeCompare(String(b.department), "ja") || String(a.model).localeCompare(String(b.model)),
  );
  els.quality.replaceChildren(
    h(
      "div",
      { class: "table-wrap" },
      table(
        `部署・モデル別の修正率(${monthLabel(data.month)})`,
        [{ text: "部署" }, { text: "モデル" }, { text: "修正率", num: true }, { text: "件数", num: true }],
        rows.map((r) => [
          r.department,
          h("code", {}, r.model || "(不明)"),
          finite(r.edit_rate) === null ? dash : fmtPercent(r.edit_rate * 100),
          fmtCount(r.recordings),
        ]),
        { className: "quality-table" },
      ),
    ),
  );
}

// --- 12 months and the fiscal year -----------------------------------------------------------------

function renderTrend(data) {
  const months = Array.isArray(data.trend) ? data.trend.slice(-TREND_MONTHS) : [];
  const target = orZero(data.target_hours);
  const width = 560;
  const height = 280;
  const m = { left: 56, right: 10, top: 24, bottom: 48 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const { max, ticks } = axis(Math.max(target, ...months.map((t) => orZero(t.hours))));
  const y = (value) => m.top + plotH - (orZero(value) / max) * plotH;
  const slot = months.length ? plotW / months.length : plotW;
  const barW = Math.min(36, slot * 0.62);
  const first = months[0] ? monthLabel(months[0].month) : "";
  const lastMonth = months.length ? monthLabel(months[months.length - 1].month) : "";
  const svg = chartSvg(
    width,
    height,
    `${first}から${lastMonth}までの月ごとの利用時間`,
    months.map((t) => `${monthLabel(t.month)} ${fmtHours(t.hours)}`).join("、") + `。月の目標は ${fmtTarget(target)}。`,
    "trend-chart",
  );
  for (const tick of ticks) {
    svg.append(
      s("line", { x1: m.left, x2: width - m.right, y1: y(tick), y2: y(tick), class: "grid-line" }),
      svgText(m.left - 8, y(tick), upToTwo.format(tick), "axis-label", "end"),
    );
  }
  months.forEach((t, i) => {
    const cx = m.left + slot * i + slot / 2;
    const top = y(t.hours);
    const selected = t.month === data.month;
    const monthClass = selected ? "axis-label is-selected" : "axis-label";
    svg.append(
      s(
        "g",
        { class: "trend-item" },
        s("title", {}, `${monthLabel(t.month)}: ${fmtHours(t.hours)}、${fmtCount(t.recordings)}`),
        s("rect", {
          x: cx - barW / 2,
          y: top,
          width: barW,
          height: Math.max(0, y(0) - top),
          rx: 2,
          class: `trend-bar${selected ? " is-selected" : ""}`,
          "data-month": t.month,
        }),
        svgText(cx, top - 5, orZero(t.hours) ? oneDecimal.format(t.hours) : "0", "bar-value-small", "middle"),
        svgText(cx, height - m.bottom + 17, shortMonth(t.month), monthClass, "middle"),
        // The year under the first month and under each January.
        i === 0 || t.month.endsWith("-01")
          ? svgText(cx, height - m.bottom + 33, `${t.month.slice(0, 4)}年`, "axis-year", "middle")
          : null,
      ),
    );
  });
  svg.append(
    s("line", { x1: m.left, x2: width - m.right, y1: y(0), y2: y(0), class: "axis-line" }),
    s("line", { x1: m.left, x2: width - m.right, y1: y(target), y2: y(target), class: "target-line" }),
    svgText(width - m.right, y(target) - 5, `目標 ${fmtTarget(target)}`, "target-label", "end"),
  );
  els.trendChart.replaceChildren(svg);
  els.trendTable.replaceChildren(
    table(
      "月ごとの利用時間(12か月)",
      [{ text: "月" }, { text: "利用時間", num: true }, { text: "目標に対して", num: true }, { text: "件数", num: true }],
      months.map((t) => [
        h("a", { href: usageUrl(t.month), "data-month": t.month }, monthLabel(t.month)),
        fmtHours(t.hours),
        fmtPercent(share(t.hours, target)),
        fmtCount(t.recordings),
      ]),
      { className: "trend-table" },
    ),
  );
}

function renderFiscal(data) {
  const fiscal = data.fiscal_year || {};
  const used = orZero(fiscal.used_hours);
  const target = orZero(fiscal.target_hours);
  const percent = share(used, target);
  const months = Array.isArray(fiscal.by_month) ? fiscal.by_month : [];
  let running = 0;
  const rows = months.map((t) => {
    running += orZero(t.hours);
    return [
      h(
        "a",
        { href: usageUrl(t.month), "data-month": t.month, "aria-current": t.month === data.month ? "true" : null },
        monthLabel(t.month),
      ),
      fmtHours(t.hours),
      fmtHours(running),
    ];
  });
  els.fiscal.replaceChildren(
    h(
      "p",
      { class: "fiscal-label" },
      h("strong", { id: "fiscal-label" }, fiscal.label || ""),
      h("span", { class: "hint-inline" }, "4月から翌年3月まで"),
    ),
    h(
      "p",
      { class: "big-figure big-figure-small" },
      h("span", { class: "big-number", id: "fiscal-used" }, fmtHours(used)),
      h("span", { class: "big-of" }, ` / 年度の目標 ${fmtTarget(target)}`),
    ),
    meter(
      percent,
      `${fiscal.label || "年度"}の目標に対する利用時間`,
      `年度の目標 ${fmtTarget(target)} に対して ${fmtHours(used)}(${fmtPercent(percent)})`,
      { id: "fiscal-meter" },
    ),
    h("p", { class: "meter-caption" }, h("strong", { id: "fiscal-percent" }, fmtPercent(percent)), " 年度の目標に対する達成率"),
    h(
      "div",
      { class: "table-wrap fiscal-months" },
      table(
        `${fiscal.label || "年度"}の月ごとの利用時間`,
        [{ text: "月" }, { text: "利用時間", num: true }, { text: "年度の累計", num: true }],
        rows,
        { className: "fiscal-table" },
      ),
    ),
  );
}

// --- export links --------------------------------------------------------------------------------

function exportHref(format) {
  const params = new URLSearchParams({
    view: els.exportView.value,
    start: els.exportStart.value,
    end: els.exportEnd.value,
    format,
  });
  return `/api/v1/usage/export?${params}`;
}

/** Check the range (start ≤ end, at most 13 months) and point both links at it, or disable them. */
function updateExport() {
  const start = monthIndex(els.exportStart.value);
  const end = monthIndex(els.exportEnd.value);
  let problem = "";
  if (start === null || end === null) problem = "開始月と終了月を 2026-04 の形で選んでください。";
  else if (start > end) problem = "開始月が終了月より後になっています。";
  else if (end - start + 1 > MAX_EXPORT_MONTHS) problem = `期間は最大${MAX_EXPORT_MONTHS}か月です。`;
  for (const [link, format] of [
    [els.exportCsv, "csv"],
    [els.exportXlsx, "xlsx"],
  ]) {
    if (problem) {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    } else {
      link.href = exportHref(format);
      link.removeAttribute("aria-disabled");
    }
  }
  els.exportNote.classList.toggle("is-error", Boolean(problem));
  els.exportNote.textContent =
    problem ||
    `${monthLabel(els.exportStart.value)}から${monthLabel(els.exportEnd.value)}まで(${end - start + 1}か月)の` +
      `${VIEW_LABELS[els.exportView.value] || ""}の表を保存します。`;
}

function resetExport(month) {
  els.exportEnd.value = month;
  els.exportStart.value = shiftMonth(month, -(TREND_MONTHS - 1));
  updateExport();
}

// --- the month shown, in the URL ------------------------------------------------------------------

function setMonthLink(link, label, month) {
  link.href = usageUrl(month);
  link.removeAttribute("aria-disabled");
  link.dataset.month = month;
  label.textContent = monthLabel(month);
}

function render(data) {
  const label = monthLabel(data.month);
  document.title = `利用状況 ${label} | kiroku 記録`;
  els.monthTitle.textContent = label;
  els.summaryTitle.textContent = `${label}の利用時間`;
  els.monthInput.value = data.month;
  setMonthLink(els.prev, els.prevLabel, shiftMonth(data.month, -1));
  setMonthLink(els.next, els.nextLabel, shiftMonth(data.month, 1));
  renderCapAlerts(data);
  renderSummary(data);
  renderDaily(data);
  renderDepartments(data);
  renderBreakdown(els.source, data, "source", SOURCE_LABELS, "経路別");
  renderBreakdown(els.kind, data, "kind", KIND_LABELS, "種類別");
  renderTrend(data);
  renderFiscal(data);
  renderQuality(data);
  resetExport(data.month);
}

async function load(month) {
  const ticket = ++requestNo;
  els.body.setAttribute("aria-busy", "true");
  try {
    const data = await api(`/api/v1/usage/dashboard${month ? `?month=${encodeURIComponent(month)}` : ""}`);
    if (ticket !== requestNo) return;
    showMessage(els.error, "");
    render(data);
    els.body.setAttribute("aria-busy", "false");
    return data;
  } catch (error) {
    if (ticket !== requestNo) return;
    showMessage(els.error, errorText(error));
    els.body.setAttribute("aria-busy", "false");
  }
  return null;
}

function monthFromUrl() {
  const value = new URLSearchParams(location.search).get("month");
  if (value === null) return null;
  if (MONTH_RE.test(value)) return value;
  // A hand-typed or damaged bookmark: say so, and show the current month.
  history.replaceState(null, "", "/usage");
  showMessage(els.error, "月の指定が読めなかったため、今月を表示しています。", "warning");
  return null;
}

async function go(month) {
  history.pushState(null, "", usageUrl(month));
  const data = await load(month);
  if (!data) return;
  announce(`${monthLabel(data.month)}の利用状況を表示しました。`);
  // A month link inside a table is redrawn with it: keep keyboard users at the top of the page.
  if (!document.activeElement || document.activeElement === document.body) $("main").focus();
}

/** Plain clicks on month links stay on the page; other clicks (new tab, …) do what links do. */
function onMonthLink(event) {
  const link = event.target.closest("a[href^='/usage']");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  go(new URL(link.href).searchParams.get("month"));
}

els.monthForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = els.monthInput.value.trim();
  if (!MONTH_RE.test(value)) {
    showMessage(els.error, "月は 2026-04 の形で入力してください。");
    els.monthInput.focus();
    return;
  }
  go(value);
});
for (const link of [els.prev, els.next, els.thisMonth]) link.addEventListener("click", onMonthLink);
els.trendTable.addEventListener("click", onMonthLink);
els.fiscal.addEventListener("click", onMonthLink);
for (const input of [els.exportView, els.exportStart, els.exportEnd]) {
  input.addEventListener("input", updateExport);
  input.addEventListener("change", updateExport);
}
els.exportForm.addEventListener("submit", (event) => event.preventDefault());
wireToggle(els.dailyToggle, els.dailyTable);
wireToggle(els.trendToggle, els.trendTable);
window.addEventListener("popstate", () => load(monthFromUrl()));

load(monthFromUrl());
