// The call page's inline style and script: the page fetches nothing else, so it works offline, behind
// a strict Content-Security-Policy, and in a screenshot.

export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5f6b76; --bg: #f6f7f9; --card: #fff;
  --line: #dde2e7; --caller: #e7f0ff; --agent: #eef8ef; --cut: #b3261e; --token: #3d7be0;
  --sentence: #8a55d6; --say: #2f9e57; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ec; --muted: #9aa6b2; --bg: #15191d;
  --card: #1e2429; --line: #323b43; --caller: #1f3048; --agent: #1e3524; --cut: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
.topbar { display: flex; justify-content: space-between; padding: 8px 24px; border-bottom: 1px solid var(--line);
  background: var(--card); font-size: 13px; color: var(--muted); }
.live[data-state="live"]::before { content: "●"; color: var(--say); margin-right: 6px; }
.live[data-state="retrying"], .live[data-state="expired"] { color: var(--cut); }
main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
.summary dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
.summary dt { color: var(--muted); }
.summary dd { margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: var(--line); font-weight: 600; }
.badge.running { background: var(--say); color: #fff; }
.badge.failed, .badge.terminated, .badge.timed-out { background: var(--cut); color: #fff; }
.timeline { list-style: none; margin: 0; padding: 0; }
.entry { display: grid; grid-template-columns: 72px 1fr; gap: 10px; padding: 3px 0; align-items: start; }
.at { color: var(--muted); font: 12px ui-monospace, monospace; text-align: right; padding-top: 7px; }
.bubble { max-width: 78%; padding: 6px 12px; border-radius: 12px; border: 1px solid var(--line); }
.caller .bubble { background: var(--caller); }
.agent .bubble { background: var(--agent); margin-left: auto; }
.who { font-size: 12px; color: var(--muted); font-weight: 600; }
.text { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.cut-interrupted .text { text-decoration: line-through; text-decoration-color: var(--cut); }
.cut-unheard .text { text-decoration: line-through; text-decoration-color: var(--cut); opacity: 0.6; }
.tags { display: flex; flex-wrap: wrap; gap: 4px; }
.tag { font-size: 11px; padding: 0 6px; border-radius: 8px; background: var(--line); color: var(--muted); }
.tag.cut { background: var(--cut); color: #fff; }
.barge-in .marker { border-left: 4px solid var(--cut); padding: 4px 12px; background: var(--card); }
.marker p { margin: 2px 0; }
.never-heard q, .flushed q { overflow-wrap: anywhere; }
.event .event-text { color: var(--muted); font-size: 13px; padding-top: 5px; }
.none { color: var(--muted); }
.legend { color: var(--muted); font-size: 13px; }
.turns { list-style: none; margin: 0; padding: 0; }
.turn { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px; }
.turn-head { margin-bottom: 4px; }
.turn-head .said { color: var(--muted); font-size: 13px; }
.question { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.bar-row { display: grid; grid-template-columns: 110px 1fr 72px; gap: 8px; align-items: center; font-size: 13px; }
.bar-label { color: var(--muted); }
.track { height: 10px; background: var(--bg); border-radius: 5px; overflow: hidden; }
.bar { display: block; height: 100%; border-radius: 5px; }
.bar.token { background: var(--token); }
.bar.sentence { background: var(--sentence); }
.bar.say { background: var(--say); }
.ms { text-align: right; font: 12px ui-monospace, monospace; }
`;

/**
 * While the call runs: fetch `<main>` again every `data-interval-ms` with the page's view token,
 * replace it when it changed, and stop once the call has ended (or the view token has expired).
 */
export const PAGE_SCRIPT = `
(() => {
  const body = document.body;
  const src = body.dataset.refresh;
  const token = body.dataset.viewToken;
  const every = Number(body.dataset.intervalMs) || 1500;
  const live = document.getElementById('live');
  const show = (text, state) => { live.textContent = text; live.dataset.state = state; };
  const main = () => document.querySelector('main');
  const running = () => main().dataset.status === 'running';
  let failures = 0;
  let last = '';
  async function refresh() {
    let delay = every;
    try {
      const res = await fetch(src, {
        headers: token ? { authorization: 'Bearer ' + token } : {},
        cache: 'no-store',
        credentials: 'omit',
      });
      if (res.status === 401 || res.status === 403) {
        show('This view has expired: reload the page to follow the call again.', 'expired');
        return;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const text = await res.text();
      if (text !== last) {
        last = text;
        const template = document.createElement('template');
        template.innerHTML = text;
        const next = template.content.querySelector('main');
        if (next) {
          const atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40;
          main().replaceWith(next);
          if (atBottom) window.scrollTo(0, document.documentElement.scrollHeight);
        }
      }
      failures = 0;
    } catch (err) {
      failures += 1;
      delay = Math.min(every * 2 ** failures, 30000);
      show('Reconnecting…', 'retrying');
      setTimeout(refresh, delay);
      return;
    }
    if (!running()) {
      show('The call has ended: this page is final.', 'ended');
      return;
    }
    show('Live', 'live');
    setTimeout(refresh, delay);
  }
  if (src && running()) {
    show('Live', 'live');
    setTimeout(refresh, every);
  } else {
    show(running() ? '' : 'The call has ended: this page is final.', 'ended');
  }
})();
`;
