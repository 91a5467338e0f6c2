/**
 * Shared plumbing for the local stack's own web pages (the demo shop and the operator dashboard):
 * HTML escaping, one base stylesheet, and documents whose inline script and style are allowed by
 * SHA-256 hash in a strict Content-Security-Policy, so no page needs 'unsafe-inline'.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** JSON safe inside a `<script type="application/json">` element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** A CSP hash source for an inline script or style element's exact text. */
export function hashSource(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The look shared by the shop and the dashboard: system font, WCAG AA contrast, visible focus. */
export const BASE_STYLE = `
:root{color-scheme:light;--ink:#111827;--muted:#4b5563;--line:#d1d5db;--bg:#f9fafb;--card:#fff;--brand:#047857;--brand-dark:#065f46;--focus:#b45309;--ok:#166534;--ok-bg:#dcfce7;--warn:#854d0e;--warn-bg:#fef9c3;--bad:#991b1b;--bad-bg:#fee2e2;--info:#1e40af;--info-bg:#dbeafe}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:var(--info)}
.topbar{background:#fff;border-bottom:1px solid var(--line)}
.topbar .inner{max-width:64rem;margin:0 auto;padding:.75rem 1rem;display:flex;align-items:center;gap:1.5rem;flex-wrap:wrap}
.site{font-weight:800;font-size:1.125rem;color:var(--ink);text-decoration:none}
nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
nav a{font-weight:600;text-decoration:none;padding:.25rem .125rem}
nav a[aria-current=page]{color:var(--ink);border-bottom:3px solid var(--brand)}
main{max-width:64rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 .5rem}
h2{font-size:1.125rem;margin:0 0 .5rem}
.lead{color:var(--muted);margin:0 0 1.5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 2px rgba(0,0,0,.05)}
button,.button{display:inline-block;font:inherit;font-weight:700;padding:.6rem 1.1rem;border:0;border-radius:.5rem;background:var(--brand);color:#fff;cursor:pointer;text-decoration:none}
button:hover,.button:hover{background:var(--brand-dark)}
button:disabled{background:#6b7280;cursor:not-allowed}
button.secondary{background:#fff;color:var(--ink);border:1px solid #6b7280}
button.secondary:hover{background:#f3f4f6}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input{font:inherit;padding:.5rem .75rem;border:1px solid #6b7280;border-radius:.5rem;color:var(--ink);background:#fff}
label{font-weight:600}
table{width:100%;border-collapse:collapse;background:#fff}
caption{text-align:left;font-weight:700;padding:.5rem 0}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f3f4f6;font-size:.875rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875em}
.pill{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-size:.8125rem;font-weight:700;background:#e5e7eb;color:#1f2937}
.pill.ok{background:var(--ok-bg);color:var(--ok)}
.pill.bad{background:var(--bad-bg);color:var(--bad)}
.pill.warn{background:var(--warn-bg);color:var(--warn)}
.pill.info{background:var(--info-bg);color:var(--info)}
.muted{color:var(--muted)}
.notice{border-radius:.5rem;padding:.75rem 1rem;font-weight:600}
.notice.bad{background:var(--bad-bg);color:var(--bad)}
.notice.ok{background:var(--ok-bg);color:var(--ok)}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
[hidden]{display:none!important}
`;

export interface PageInput {
  title: string;
  /** Page-specific CSS appended to BASE_STYLE. */
  style?: string;
  /** Inline script (plain browser JS, no `${`), hashed into the CSP. */
  script?: string;
  /** JSON handed to the script in `<script type="application/json" id="page-data">`. */
  data?: unknown;
  /** The body's inner HTML (already escaped by the caller). */
  body: string;
  /** Extra origins allowed in connect-src besides 'self'. */
  connectOrigins?: string[];
  /** Extra origins a form (or its redirect) may go to besides 'self'. */
  formOrigins?: string[];
  /**
   * Script files the page loads: same-origin paths (e.g. a vendored library) with their Subresource
   * Integrity hash; adds 'self' to script-src, and the browser refuses a file that does not match.
   */
  scriptFiles?: { src: string; integrity: string }[];
}

/** A complete document plus its headers (CSP, no caching, no sniffing, no framing). */
export function renderPage(input: PageInput): { html: string; headers: Record<string, string> } {
  const style = BASE_STYLE + (input.style ?? '');
  const csp = [
    "default-src 'none'",
    ...(input.script !== undefined || input.scriptFiles !== undefined
      ? [
          [
            'script-src',
            ...(input.scriptFiles !== undefined ? ["'self'"] : []),
            ...(input.script !== undefined ? [hashSource(input.script)] : []),
          ].join(' '),
        ]
      : []),
    `style-src ${hashSource(style)}`,
    ["connect-src 'self'", ...(input.connectOrigins ?? [])].join(' '),
    'img-src data:',
    "base-uri 'none'",
    ["form-action 'self'", ...(input.formOrigins ?? [])].join(' '),
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
${input.body}
${(input.scriptFiles ?? []).map((file) => `<script src="${escapeHtml(file.src)}" integrity="${escapeHtml(file.integrity)}"></script>\n`).join('')}${input.data !== undefined ? `<script type="application/json" id="page-data">${jsonForScript(input.data)}</script>\n` : ''}${input.script !== undefined ? `<script>${input.script}</script>\n` : ''}</body>
</html>
`;
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    },
  };
}

/** Writes a rendered page with its headers. */
export function sendPage(
  response: ServerResponse,
  status: number,
  page: { html: string; headers: Record<string, string> },
): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { ...page.headers, 'content-length': String(Buffer.byteLength(page.html)) });
  response.end(page.html);
}

/** True when the request prefers an HTML page (a browser navigation) over JSON (fetch, curl, tests). */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /\btext\/html\b/i.test(accept);
}

/**
 * Minor units to a display string with Intl.NumberFormat, the major-unit value built by string
 * manipulation from the ISO exponent (no float arithmetic).
 */
export function formatMoney(amountMinor: number, currency: string, exponent: number, locale = 'en-US'): string {
  const negative = amountMinor < 0;
  let digits = String(Math.abs(amountMinor));
  if (exponent > 0) {
    digits = digits.padStart(exponent + 1, '0');
    digits = `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  }
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  return format.format(`${negative ? '-' : ''}${digits}` as unknown as number);
}
