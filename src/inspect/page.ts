// The call page: the timeline as HTML, self-contained (inline CSS and script, nothing fetched but
// its own refreshes). `<main>` alone is what a running call's page fetches to refresh itself.
import { toolText } from './format';
import { Markup, markup } from './html';
import { PAGE_SCRIPT, PAGE_STYLE } from './page-assets';
import type { CallTimeline, TimelineEntry, TurnTiming } from './timeline';

export interface CallPageView {
  timeline: CallTimeline;
  /** The call in the Temporal UI, when its address is known. */
  temporalUi?: string;
}

export interface CallPageShell {
  /** Where the page fetches its `<main>` again while the call runs. */
  refreshUrl: string;
  refreshMs: number;
  /** Sent as a bearer token with each refresh: a read-only pass for this one call. */
  viewToken?: string;
  /** The Content-Security-Policy nonce of the page's one script. */
  nonce: string;
}

type Entry<K extends TimelineEntry['kind']> = Extract<TimelineEntry, { kind: K }>;

/** `+12.3 s`, or `+4:05.2` past a minute. */
function offset(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `+${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  return `+${minutes}:${(s - minutes * 60).toFixed(1).padStart(4, '0')}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function statusLine(t: CallTimeline): Markup {
  if (t.status === 'running') {
    const live = t.live ? ` · ${t.live.phase} · VoIPBIN call ${t.live.callStatus}` : '';
    return markup`<span class="badge running">running</span>${live}`;
  }
  const reason = t.endReason ? ` · ${t.endReason}` : '';
  return markup`<span class="badge ${t.status}">${t.status}</span>${reason}`;
}

function summary(view: CallPageView): Markup {
  const t = view.timeline;
  const c = t.counts;
  const runs = t.runs.length > 1 ? ` (${t.runs.length} runs)` : '';
  const lasted = t.durationMs !== undefined ? markup`<dt>Lasted</dt><dd>${duration(t.durationMs)}</dd>` : '';
  const temporal = view.temporalUi
    ? markup`<dt>Temporal</dt><dd><a href="${view.temporalUi}" rel="noopener noreferrer">the workflow in the Temporal UI</a></dd>`
    : '';
  return markup`<header class="summary">
<h1>Call <code>${t.callId}</code></h1>
<p class="status">${statusLine(t)}</p>
<dl>
<dt>Profile</dt><dd>${t.profile}</dd>
<dt>Workflow</dt><dd><code>${t.workflowId}</code>${runs}</dd>
<dt>Started</dt><dd><time datetime="${t.startedAt}">${t.startedAt}</time></dd>
${lasted}
<dt>Turns</dt><dd class="counts">${c.turns} turn(s), ${c.bargeIns} barge-in(s), ${c.reprompts} reprompt(s)</dd>
${temporal}
</dl>
</header>`;
}

function at(e: TimelineEntry): Markup {
  return markup`<time class="at" datetime="${e.at}" title="${e.at}">${offset(e.offsetMs)}</time>`;
}

function tags(list: (string | false | undefined)[], extra: Markup | '' = ''): Markup {
  const shown = list.filter((t): t is string => Boolean(t));
  return markup`<span class="tags">${shown.map((t) => markup`<span class="tag">${t}</span>`)}${extra}</span>`;
}

function callerLine(e: Entry<'caller'>): Markup {
  const notes = tags([e.recovered && 'recovered by reconciliation', e.backchannel && 'backchannel']);
  return markup`<li class="entry line caller" data-kind="caller">${at(e)}<div class="bubble"><span class="who">Caller</span><p class="text">${e.text}</p>${notes}</div></li>`;
}

/** How a line a barge-in cut is marked: it was playing, or it was still queued to play. */
const CUT_TAGS = {
  interrupted: markup`<span class="tag cut">cut off by the caller</span>`,
  unheard: markup`<span class="tag cut">never heard: flushed before it played</span>`,
};

function agentLine(e: Entry<'agent'>): Markup {
  const what = e.utterance === 'reply' ? (e.turn !== undefined ? `turn ${e.turn}` : 'reply') : e.utterance;
  const outcome = {
    done: undefined,
    pending: 'sending',
    failed: '/say failed',
    gone: 'not said: the speaking session was gone (said again on a new one)',
  }[e.outcome];
  const notes = tags([what, outcome], e.cut ? CUT_TAGS[e.cut] : '');
  const attributes = e.cut
    ? markup`class="entry line agent cut-${e.cut}" data-kind="agent" data-cut="${e.cut}"`
    : markup`class="entry line agent" data-kind="agent"`;
  return markup`<li ${attributes}>${at(e)}<div class="bubble"><span class="who">Agent</span><p class="text">${e.text}</p>${notes}</div></li>`;
}

function bargeIn(e: Entry<'barge-in'>): Markup {
  const cancelled =
    (e.turn !== undefined ? `turn ${e.turn} cancelled` : 'no reply was in flight') +
    (e.toolsLeftRunning?.length ? ` (${e.toolsLeftRunning.join(', ')} left to finish)` : '');
  const flushed = !e.flushed
    ? ''
    : e.interrupted !== undefined
      ? markup`<p class="flushed">Flushed while it played: <q>${e.interrupted}</q></p>`
      : markup`<p class="flushed">Playback flushed.</p>`;
  const cut = e.cut.length
    ? markup`<p class="never-heard">Never heard: ${e.cut.map((s) => markup`<q>${s}</q> `)}</p>`
    : '';
  return markup`<li class="entry barge-in" data-kind="barge-in">${at(e)}<div class="marker"><strong>Barge-in</strong>: the caller cut in; ${cancelled}.${flushed}${cut}</div></li>`;
}

/** The moments that are neither a line nor a barge-in, in a few words. */
function eventText(e: Exclude<TimelineEntry, Entry<'caller' | 'agent' | 'barge-in'>>): string {
  switch (e.kind) {
    case 'call-status':
      return `VoIPBIN call ${e.status}`;
    case 'session':
      return `${e.session} session ${e.id}${e.adopted ? ' (it already existed)' : ''}`;
    case 'session-failed':
      return `${e.session} session could not be created: ${e.error}`;
    case 'turn-failed':
      return `turn ${e.turn} failed: ${e.error}`;
    case 'turn-retried':
      return `turn ${e.turn} continued by attempt ${e.attempt} (its worker was lost)`;
    case 'tool':
      return `tool ${toolText(e)}`;
    case 'reconciled':
      return `reconciled: VoIPBIN says the call is ${e.callStatus}; ${e.recovered} transcript(s) recovered`;
    case 'hangup':
      return e.ok ? 'the agent hung up' : 'the hang-up request failed';
    case 'continued-as-new':
      return `continued as new: run ${e.nextRun}`;
    case 'ended':
      return `ended: ${e.reason}`;
  }
}

function entry(e: TimelineEntry): Markup {
  switch (e.kind) {
    case 'caller':
      return callerLine(e);
    case 'agent':
      return agentLine(e);
    case 'barge-in':
      return bargeIn(e);
    default:
      return markup`<li class="entry event ${e.kind}" data-kind="${e.kind}">${at(e)}<span class="event-text">${eventText(e)}</span></li>`;
  }
}

const BARS = [
  ['token', 'first token', (t: TurnTiming) => t.firstTokenMs],
  ['sentence', 'first sentence', (t: TurnTiming) => t.firstSentenceMs],
  ['say', 'first /say', (t: TurnTiming) => t.firstSayMs],
] as const;

function latencyRow(t: TurnTiming, scaleMs: number): Markup {
  const bars = BARS.map(([key, label, value]) => {
    const ms = value(t);
    const width = ms === undefined ? 0 : Math.max(0.5, (ms / scaleMs) * 100);
    const shown = ms === undefined ? '–' : `${Math.round(ms)} ms`;
    return markup`<div class="bar-row" data-measure="${key}"><span class="bar-label">${label}</span><span class="track"><span class="bar ${key}" style="width:${width.toFixed(1)}%"></span></span><span class="ms">${shown}</span></div>`;
  });
  const outcome = t.attempts > 1 ? `${t.outcome}, ${t.attempts} attempts` : t.outcome;
  const answered = t.firstSayMs !== undefined ? markup` data-answered="true"` : '';
  const question = t.question !== undefined ? markup` <q class="question">${t.question}</q>` : '';
  return markup`<li class="turn" data-turn="${t.turn}" data-outcome="${t.outcome}"${answered}>
<div class="turn-head"><strong>Turn ${t.turn}</strong> <span class="tag">${outcome}</span> <span class="said">${t.said}/${t.sentences} sentence(s) said</span>${question}</div>
<div class="bars">${bars}</div>
</li>`;
}

function latencies(turns: TurnTiming[]): Markup {
  const heading = markup`<h2>Turn latency</h2>`;
  if (turns.length === 0)
    return markup`<section class="latency">${heading}<p class="none">No turn yet.</p></section>`;
  const scaleMs = Math.max(1, ...turns.flatMap((t) => BARS.map(([, , value]) => value(t) ?? 0)));
  return markup`<section class="latency">${heading}
<p class="legend">From the caller's final transcript to the model's first token, its first full sentence, and the answer's first <code>/say</code>; bars to scale (the longest: ${Math.round(scaleMs)} ms).</p>
<ol class="turns">${turns.map((t) => latencyRow(t, scaleMs))}</ol>
</section>`;
}

/** The page's `<main>`: what a refresh replaces. `data-status` tells the script when to stop. */
export function renderCallMain(view: CallPageView): Markup {
  const t = view.timeline;
  const entries = t.entries.length
    ? markup`<ol class="timeline">${t.entries.map(entry)}</ol>`
    : markup`<p class="none">Nothing has happened yet.</p>`;
  return markup`<main id="call" data-status="${t.status}">
${summary(view)}
<section class="conversation"><h2>Conversation</h2>${entries}</section>
${latencies(t.turns)}
</main>`;
}

function htmlDocument(title: string, main: Markup, shell?: CallPageShell): string {
  const token = shell?.viewToken ? markup` data-view-token="${shell.viewToken}"` : '';
  const data = shell
    ? markup` data-refresh="${shell.refreshUrl}" data-interval-ms="${shell.refreshMs}"${token}`
    : '';
  const script = shell ? markup`<script nonce="${shell.nonce}">${new Markup(PAGE_SCRIPT)}</script>` : '';
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new Markup(PAGE_STYLE)}</style>
</head>
<body${data}>
<div class="topbar"><span class="brand">voipbin-agent</span><span id="live" class="live" role="status" aria-live="polite"></span></div>
${main}
${script}
</body>
</html>
`.html;
}

/** The whole page of a call. */
export function renderCallPage(view: CallPageView, shell: CallPageShell): string {
  return htmlDocument(`Call ${view.timeline.callId} · voipbin-agent`, renderCallMain(view), shell);
}

/** The page of a call Temporal does not know. */
export function renderMissingCallPage(callId: string): string {
  const main = markup`<main id="call" data-status="missing"><header class="summary"><h1>No call <code>${callId}</code></h1>
<p>Temporal has no workflow for this call: check the id (the VoIPBIN call id, or the workflow id <code>call-…</code>).</p></header></main>`;
  return htmlDocument(`No call ${callId} · voipbin-agent`, main);
}
