// The plugin's styles: one <style> element in <head>, added by initialize() and removed by
// uninitialize(). Colours come from the CSS variables Mattermost sets from the theme, with the
// default theme's values as fallbacks; fonts are inherited. Every class starts with "ea-".

const FG = 'var(--center-channel-color, #3f4350)';
const BG = 'var(--center-channel-bg, #ffffff)';
const FG_RGB = 'var(--center-channel-color-rgb, 63, 67, 80)';
const BUTTON_BG = 'var(--button-bg, #1c58d9)';
const BUTTON_BG_RGB = 'var(--button-bg-rgb, 28, 88, 217)';
const BUTTON_FG = 'var(--button-color, #ffffff)';
const ERROR = 'var(--error-text, #d24b4e)';
const ONLINE = 'var(--online-indicator, #3db887)';
const AWAY = 'var(--away-indicator, #ffbc1f)';
const LINK = 'var(--link-color, #386fe5)';

export const CSS = `
.ea-root { color: ${FG}; font: inherit; line-height: 1.45; max-width: 100%; min-width: 0; }
.ea-root *, .ea-root *::before, .ea-root *::after { box-sizing: border-box; }
.ea-root h2, .ea-root h3, .ea-root h4 { color: ${FG}; font-weight: 600; margin: 0 0 8px; }
.ea-root h2 { font-size: 18px; }
.ea-root h3 { font-size: 16px; }
.ea-root h4 { font-size: 14px; }
.ea-section { margin: 0 0 24px; }
.ea-muted { color: rgba(${FG_RGB}, 0.64); }
.ea-small { font-size: 12px; }
.ea-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.ea-spread { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: space-between; }
.ea-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.ea-card { border: 1px solid rgba(${FG_RGB}, 0.16); border-radius: 4px; padding: 12px; background: ${BG}; min-width: 0; overflow-wrap: anywhere; }
.ea-card__label { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.02em; color: rgba(${FG_RGB}, 0.64); margin: 0 0 4px; }
.ea-card__value { font-size: 22px; font-weight: 600; }
.ea-list { margin: 4px 0 0; padding-left: 18px; }
.ea-list li { margin: 2px 0; }
.ea-plain-list { list-style: none; margin: 0; padding: 0; }
.ea-plain-list > li { margin: 0 0 8px; }
.ea-table-wrap { overflow-x: auto; max-width: 100%; border: 1px solid rgba(${FG_RGB}, 0.16); border-radius: 4px; }
.ea-table { border-collapse: collapse; width: 100%; min-width: 960px; font-size: 13px; }
.ea-table th, .ea-table td { text-align: left; padding: 6px 8px; border-bottom: 1px solid rgba(${FG_RGB}, 0.08); vertical-align: top; }
.ea-table thead th { background: rgba(${FG_RGB}, 0.04); white-space: nowrap; }
.ea-table tbody tr.ea-row--current { background: rgba(${BUTTON_BG_RGB}, 0.08); }
.ea-table--compact { min-width: 640px; }
/* Config paths and long hosts wrap anywhere here, so the explanation column keeps room on a laptop screen. */
.ea-table.ea-table--compact .ea-code { overflow-wrap: anywhere; }
.ea-table--compact td:last-child { min-width: 260px; }
.ea-table tbody tr.ea-row--off { color: rgba(${FG_RGB}, 0.64); }
.ea-table tbody tr.ea-row--off .ea-badge { opacity: 0.64; }
.ea-table td.ea-num, .ea-table th.ea-num { text-align: right; font-variant-numeric: tabular-nums; }
.ea-sort { background: none; border: 0; padding: 0; font: inherit; font-weight: 600; color: inherit; cursor: pointer; display: inline-flex; gap: 4px; align-items: center; }
.ea-sort__mark { color: rgba(${FG_RGB}, 0.48); font-size: 10px; }
.ea-btn { display: inline-flex; align-items: center; gap: 4px; border-radius: 4px; border: 1px solid transparent; padding: 6px 12px; font: inherit; font-size: 13px; font-weight: 600; cursor: pointer; background: ${BUTTON_BG}; color: ${BUTTON_FG}; }
.ea-btn:hover { filter: brightness(0.95); }
.ea-btn[disabled] { opacity: 0.5; cursor: not-allowed; }
.ea-btn--secondary { background: rgba(${BUTTON_BG_RGB}, 0.08); color: ${BUTTON_BG}; }
.ea-btn--danger { background: ${ERROR}; color: #ffffff; }
.ea-btn--small { padding: 2px 8px; font-size: 12px; }
.ea-link { background: none; border: 0; padding: 0; font: inherit; color: ${LINK}; cursor: pointer; text-align: left; overflow-wrap: anywhere; }
.ea-link:hover { text-decoration: underline; }
.ea-root :focus-visible { outline: 2px solid ${BUTTON_BG}; outline-offset: 2px; }
.ea-field { display: inline-flex; flex-direction: column; gap: 2px; font-size: 12px; font-weight: 600; min-width: 0; }
.ea-input { font: inherit; font-size: 13px; font-weight: 400; color: ${FG}; background: ${BG}; border: 1px solid rgba(${FG_RGB}, 0.24); border-radius: 4px; padding: 5px 8px; max-width: 100%; }
.ea-input:focus { border-color: ${BUTTON_BG}; outline: none; box-shadow: 0 0 0 1px ${BUTTON_BG}; }
textarea.ea-input { width: 100%; min-height: 64px; resize: vertical; }
.ea-code { font-family: Menlo, Consolas, 'Courier New', monospace; font-size: 12px; overflow-wrap: anywhere; }
.ea-table .ea-code { overflow-wrap: break-word; }
.ea-table td.ea-code { white-space: nowrap; }
.ea-pre { font-family: Menlo, Consolas, 'Courier New', monospace; font-size: 12px; background: rgba(${FG_RGB}, 0.04); border: 1px solid rgba(${FG_RGB}, 0.12); border-radius: 4px; padding: 8px; margin: 4px 0; overflow: auto; max-height: 420px; white-space: pre; color: ${FG}; }
.ea-badge { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 11px; font-weight: 600; line-height: 18px; white-space: nowrap; background: rgba(${FG_RGB}, 0.08); }
.ea-badge--blocked, .ea-badge--error { background: rgba(210, 75, 78, 0.12); color: ${ERROR}; }
.ea-badge--passthrough, .ea-badge--warn { background: rgba(255, 188, 31, 0.16); color: ${FG}; }
.ea-badge--ok { background: rgba(61, 184, 135, 0.16); color: ${FG}; }
.ea-badge--muted { background: transparent; box-shadow: inset 0 0 0 1px rgba(${FG_RGB}, 0.32); color: rgba(${FG_RGB}, 0.64); }
.ea-dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 4px; background: rgba(${FG_RGB}, 0.32); }
.ea-dot--ok { background: ${ONLINE}; }
.ea-dot--warn { background: ${AWAY}; }
.ea-dot--error { background: ${ERROR}; }
.ea-callout { border: 1px solid rgba(${FG_RGB}, 0.16); border-left: 4px solid ${BUTTON_BG}; border-radius: 4px; padding: 12px 16px; margin: 0 0 16px; background: ${BG}; overflow-wrap: anywhere; }
.ea-callout--error { border-left-color: ${ERROR}; }
.ea-callout--warn { border-left-color: ${AWAY}; }
.ea-error-text { color: ${ERROR}; }
.ea-panel { border: 1px solid rgba(${FG_RGB}, 0.16); border-radius: 4px; padding: 16px; margin: 16px 0 0; background: ${BG}; min-width: 0; }
.ea-grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.ea-dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 12px; margin: 0; }
.ea-dl dt { font-weight: 600; }
.ea-dl dd { margin: 0; overflow-wrap: anywhere; }
.ea-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.ea-alert { border-left: 4px solid ${ERROR}; padding: 4px 0 4px 12px; margin: 4px 0; max-width: 720px; overflow-wrap: anywhere; }
.ea-alert--warning { border-left-color: ${AWAY}; }
.ea-alert--info { border-left-color: ${BUTTON_BG}; }
.ea-alert__item { margin: 4px 0; }
.ea-alert details > summary, .ea-details > summary { cursor: pointer; color: ${LINK}; }
@media (max-width: 760px) {
  .ea-grid2 { grid-template-columns: minmax(0, 1fr); }
  .ea-dl { grid-template-columns: minmax(0, 1fr); }
  .ea-dl dd { margin-bottom: 6px; }
}
`;

const STYLE_ID = 'egress-advisor-styles';

/** Adds the style element once; returns the function that removes it. */
export function installStyles(doc: Document = document): () => void {
  let el = doc.getElementById(STYLE_ID) as HTMLStyleElement | null;
  if (el === null) {
    el = doc.createElement('style');
    el.id = STYLE_ID;
    el.textContent = CSS;
    doc.head.appendChild(el);
  }
  const installed = el;
  return () => installed.remove();
}
