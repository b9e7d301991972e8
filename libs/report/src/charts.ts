import { escapeHtml as h } from './escape.ts';
import type { RankedCount, Timeline } from './types.ts';

// Small inline SVG charts for the HTML report. No script, no external resources; every label is escaped.

const FONT = 'font-family="system-ui, sans-serif" font-size="11"';

function svgOpen(id: string, width: number, height: number, label: string): string {
  return (
    `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${h(label)}"><title>${h(label)}</title>`
  );
}

function empty(id: string, width: number, height: number, label: string): string {
  return (
    svgOpen(id, width, height, label) +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#f6f7f9"/>` +
    `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" ${FONT} fill="#667">no denials</text></svg>`
  );
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, 'Z');
}

/** Stacked bars per time bucket: denied (red) over granted (green). */
export function timelineChart(t: Timeline, id = 'chart-timeline'): string {
  const width = 720;
  const height = 180;
  const label = `Denials over time (${t.bucketSeconds}s buckets)`;
  if (t.buckets.length === 0) return empty(id, width, height, label);
  const left = 44;
  const right = 8;
  const top = 10;
  const bottom = 34;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...t.buckets.map((b) => b.denied + b.granted));
  const step = plotW / t.buckets.length;
  const barW = Math.max(1, step * 0.8);
  const out: string[] = [svgOpen(id, width, height, label)];
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#f6f7f9"/>`);
  t.buckets.forEach((b, i) => {
    const x = (left + i * step + (step - barW) / 2).toFixed(1);
    const dh = (b.denied / max) * plotH;
    const gh = (b.granted / max) * plotH;
    const tip = `${shortTime(b.start)}: ${b.denied} denied, ${b.granted} granted`;
    if (b.denied > 0) {
      out.push(
        `<rect class="bar-denied" x="${x}" y="${(top + plotH - dh).toFixed(1)}" width="${barW.toFixed(1)}" ` +
          `height="${Math.max(dh, 0.5).toFixed(1)}" fill="#c0392b"><title>${h(tip)}</title></rect>`,
      );
    }
    if (b.granted > 0) {
      out.push(
        `<rect class="bar-granted" x="${x}" y="${(top + plotH - dh - gh).toFixed(1)}" width="${barW.toFixed(1)}" ` +
          `height="${Math.max(gh, 0.5).toFixed(1)}" fill="#27ae60"><title>${h(tip)}</title></rect>`,
      );
    }
  });
  out.push(`<text x="${left - 4}" y="${top + 9}" text-anchor="end" ${FONT} fill="#445">${max}</text>`);
  out.push(`<text x="${left - 4}" y="${top + plotH}" text-anchor="end" ${FONT} fill="#445">0</text>`);
  const first = t.buckets[0];
  const last = t.buckets[t.buckets.length - 1];
  if (first !== undefined) {
    out.push(`<text x="${left}" y="${height - 18}" ${FONT} fill="#445">${h(shortTime(first.start))}</text>`);
  }
  if (last !== undefined && t.buckets.length > 1) {
    out.push(
      `<text x="${width - right}" y="${height - 18}" text-anchor="end" ${FONT} fill="#445">${h(shortTime(last.start))}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${height - 11}" width="9" height="9" fill="#c0392b"/>` +
      `<text x="${left + 13}" y="${height - 3}" ${FONT} fill="#445">denied</text>` +
      `<rect x="${left + 64}" y="${height - 11}" width="9" height="9" fill="#27ae60"/>` +
      `<text x="${left + 77}" y="${height - 3}" ${FONT} fill="#445">granted</text>`,
  );
  out.push('</svg>');
  return out.join('');
}

/** Horizontal bars with labels, largest first. */
export function rankingChart(items: RankedCount[], id: string, label: string, color: string): string {
  const width = 350;
  const rowH = 20;
  const height = Math.max(60, 12 + items.length * rowH);
  if (items.length === 0) return empty(id, width, 60, label);
  const labelW = 150;
  const countW = 44;
  const plotW = width - labelW - countW;
  const max = Math.max(1, ...items.map((i) => i.count));
  const out: string[] = [svgOpen(id, width, height, label)];
  items.forEach((item, i) => {
    const y = 6 + i * rowH;
    const w = Math.max(1, (item.count / max) * plotW);
    const name = item.name.length > 24 ? `${item.name.slice(0, 23)}…` : item.name;
    out.push(
      `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" ${FONT} fill="#223">${h(name)}</text>` +
        `<rect class="bar" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}">` +
        `<title>${h(item.name)}: ${item.count}</title></rect>` +
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 13}" ${FONT} fill="#445">${item.count}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}
