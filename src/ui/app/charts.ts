/**
 * Tiles and charts, drawn as SVG with createElementNS (no chart library, no
 * CDN). Every bar carries its number as text too, so nothing is colour-only.
 */
import { h, s } from "./dom.js";
import { count } from "./format.js";
import { href } from "./router.js";
import { label, type CountRow, type Filters, type Stats } from "./types.js";

export function tiles(stats: Stats, filters: Filters): HTMLElement {
  const tile = (id: string, title: string, value: number, target: Filters | null) => {
    const body = [h("span", { class: "tile-value" }, count(value)), h("span", { class: "tile-label" }, title)];
    return target
      ? h("a", { class: "tile", id, href: href({ view: "list", filters: target }) }, ...body)
      : h("div", { class: "tile", id }, ...body);
  };
  return h(
    "section",
    { class: "tiles", "aria-label": "Totals" },
    tile("tile-total", Object.keys(filters).length ? "Matching reports" : "Reports", stats.total, null),
    tile("tile-unreviewed", "Unreviewed", stats.unreviewed, { ...filters, status: "open" }),
    tile("tile-blocked", "Blocked", stats.blocked, { ...filters, resolution: "blocked" }),
    tile("tile-servers", "Servers", stats.servers, null),
  );
}

/** One column of a column chart: its key (a day, an hour), its height and an optional highlighted part. */
interface Column {
  key: string;
  value: number;
  /** Drawn over the bottom of the column in the alert colour (errors among calls). */
  part?: number;
}

/**
 * Vertical bars over time with gridlines at 0, half and max and three axis labels. `dataKey`
 * names the data attribute each bar carries its key in (data-day, data-hour).
 */
function columnChart(options: {
  cls: string;
  columns: readonly Column[];
  dataKey: string;
  axisLabel: (key: string) => string;
  tooltip: (column: Column) => string;
  ariaLabel: string;
}): SVGSVGElement {
  const { columns } = options;
  const width = 1000;
  const height = 220;
  const pad = { top: 16, right: 8, bottom: 28, left: 36 };
  const max = Math.max(1, ...columns.map((d) => d.value));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = plotW / Math.max(1, columns.length);
  const barW = Math.max(1, step * 0.75);

  const svg = s("svg", {
    class: `chart ${options.cls}`,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": options.ariaLabel,
  });
  // Gridlines at 0, half and max.
  for (const frac of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - frac);
    svg.appendChild(s("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    svg.appendChild(
      s("text", { class: "axis", x: pad.left - 6, y: y + 4, "text-anchor": "end" }, count(Math.round(max * frac))),
    );
  }
  columns.forEach((d, i) => {
    const barH = (d.value / max) * plotH;
    const x = pad.left + i * step + (step - barW) / 2;
    svg.appendChild(
      s(
        "rect",
        {
          class: "bar",
          x: x.toFixed(2),
          y: (pad.top + plotH - barH).toFixed(2),
          width: barW.toFixed(2),
          height: barH.toFixed(2),
          [`data-${options.dataKey}`]: d.key,
        },
        s("title", null, options.tooltip(d)),
      ),
    );
    if (d.part) {
      const partH = (d.part / max) * plotH;
      svg.appendChild(
        s("rect", {
          class: "bar bar-part",
          x: x.toFixed(2),
          y: (pad.top + plotH - partH).toFixed(2),
          width: barW.toFixed(2),
          height: partH.toFixed(2),
          "aria-hidden": "true",
        }),
      );
    }
  });
  // Axis labels: first, middle, last.
  const labelAt = (i: number, anchor: string) => {
    const d = columns[i];
    if (!d) return;
    svg.appendChild(
      s(
        "text",
        { class: "axis", x: pad.left + i * step + step / 2, y: height - 8, "text-anchor": anchor },
        options.axisLabel(d.key),
      ),
    );
  };
  labelAt(0, "start");
  if (columns.length > 2) labelAt(Math.floor(columns.length / 2), "middle");
  if (columns.length > 1) labelAt(columns.length - 1, "end");
  return svg;
}

/** Reports per UTC day as vertical bars. */
export function perDayChart(days: Stats["per_day"]): SVGSVGElement {
  const max = Math.max(1, ...days.map((d) => d.count));
  const total = days.reduce((n, d) => n + d.count, 0);
  const first = days[0]?.day ?? "";
  const last = days[days.length - 1]?.day ?? "";
  return columnChart({
    cls: "chart-days",
    columns: days.map((d) => ({ key: d.day, value: d.count })),
    dataKey: "day",
    axisLabel: (day) => day.slice(5),
    tooltip: (d) => `${d.key}: ${count(d.value)}`,
    ariaLabel: `Reports per day from ${first} to ${last}: ${total} in all, at most ${max} on one day.`,
  });
}

/** "2026-11-30T10:00:00.000Z" → "11-30 10:00" (UTC, as the hours are). */
const hourLabel = (iso: string): string => `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;

/** Tool calls per UTC hour, the errors among them drawn over each bar. */
export function perHourChart(hours: readonly { hour: string; calls: number; errors: number }[]): SVGSVGElement {
  const calls = hours.reduce((n, d) => n + d.calls, 0);
  const errors = hours.reduce((n, d) => n + d.errors, 0);
  const first = hours[0]?.hour ?? "";
  const last = hours[hours.length - 1]?.hour ?? "";
  return columnChart({
    cls: "chart-hours",
    columns: hours.map((d) => ({ key: d.hour, value: d.calls, part: d.errors })),
    dataKey: "hour",
    axisLabel: hourLabel,
    tooltip: (d) => `${hourLabel(d.key)} UTC: ${count(d.value)} calls, ${count(d.part ?? 0)} errors`,
    ariaLabel:
      hours.length === 0
        ? "No calls in this range."
        : `Calls per hour from ${hourLabel(first)} to ${hourLabel(last)} UTC: ${count(calls)} calls, ${count(errors)} errors.`,
  });
}

/** A ranked list of horizontal bars; each row links to the list filtered by that value. */
export function rankChart(options: {
  id: string;
  title: string;
  rows: CountRow[];
  filterKey: keyof Filters;
  filters: Filters;
  limit?: number;
}): HTMLElement {
  const rows = options.rows.slice(0, options.limit ?? 10);
  const max = Math.max(1, ...rows.map((r) => r.count));
  const items = rows.map((row) => {
    const name = row.key === null ? "(none)" : label(row.key);
    const bar = s(
      "svg",
      { class: "rank-bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
      s("rect", { class: "rank-track", x: 0, y: 0, width: 100, height: 10 }),
      s("rect", { class: "bar", x: 0, y: 0, width: ((row.count / max) * 100).toFixed(2), height: 10 }),
    );
    const content = [
      h("span", { class: "rank-label" }, name),
      bar,
      h("span", { class: "rank-count" }, count(row.count)),
    ];
    if (row.key === null) return h("li", { class: "rank-row" }, ...content);
    const filters = { ...options.filters, [options.filterKey]: row.key };
    return h(
      "li",
      null,
      h(
        "a",
        { class: "rank-row", href: href({ view: "list", filters }), title: `${name}: ${count(row.count)}` },
        ...content,
      ),
    );
  });
  return h(
    "section",
    { class: "panel chart-panel", id: options.id, "aria-label": options.title },
    h("h2", null, options.title),
    rows.length ? h("ol", { class: "rank" }, items) : h("p", { class: "muted" }, "Nothing yet."),
  );
}

/** A 30-day sparkline: one bar per day, its numbers in the accessible name and a tooltip. */
export function sparkline(days: readonly string[], counts: readonly number[]): SVGSVGElement {
  const max = Math.max(1, ...counts);
  const total = counts.reduce((n, c) => n + c, 0);
  const w = 60;
  const h = 16;
  const step = w / Math.max(1, counts.length);
  const summary = `Reports per day, last ${counts.length} days: ${count(total)} in all, at most ${count(max)} on one day.`;
  const svg = s(
    "svg",
    {
      class: "spark",
      viewBox: `0 0 ${w} ${h}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": summary,
      "data-total": total,
    },
    s("title", null, summary),
    s("line", { class: "spark-base", x1: 0, x2: w, y1: h - 0.5, y2: h - 0.5 }),
  );
  counts.forEach((c, i) => {
    if (c === 0) return;
    const barH = Math.max(1.5, (c / max) * (h - 1));
    svg.appendChild(
      s("rect", {
        class: "bar",
        x: (i * step + step * 0.1).toFixed(2),
        y: (h - barH).toFixed(2),
        width: (step * 0.8).toFixed(2),
        height: barH.toFixed(2),
        "data-day": days[i] ?? "",
      }),
    );
  });
  return svg;
}

/** A horizontal bar for a count out of a maximum (decorative; the number is printed beside it). */
export function meterBar(value: number, max: number): SVGSVGElement {
  return s(
    "svg",
    { class: "rank-bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
    s("rect", { class: "rank-track", x: 0, y: 0, width: 100, height: 10 }),
    s("rect", { class: "bar", x: 0, y: 0, width: ((value / Math.max(1, max)) * 100).toFixed(2), height: 10 }),
  );
}
