/** What the console prints in incident mode for a list of alerts (the golden scenario's), by the grouper itself. */
import type { Alert } from '../../src/alerts/alert.js';
import { IncidentGrouper, INCIDENTS_DEFAULTS, type Incident } from '../../src/incidents/incident.js';

export interface ExpectedOpen {
  readonly id: number;
  readonly rule: string;
  readonly severity: string;
  /** As the console line writes it: `peer=…`, `src=…` or `number=…`. */
  readonly key: string;
  readonly seq: number;
  readonly callId: string;
}

const keyText = (i: Incident): string => (i.key.numberPrefix !== undefined ? `number=${i.key.numberPrefix}` : i.key.peer !== undefined ? `peer=${i.key.peer}` : `src=${i.key.src}`);

/** Incidents in opening order with their first alert, and the ones with more than one alert, by id. */
export function expectedConsoleIncidents(ndjson: string): { opens: ExpectedOpen[]; grown: { id: number; rule: string; key: string; count: number }[] } {
  const alerts = ndjson.trim().split('\n').map((l) => JSON.parse(l) as Alert);
  const opens: ExpectedOpen[] = [];
  const bySeq = new Map(alerts.map((a) => [a.seq, a]));
  const g = new IncidentGrouper(INCIDENTS_DEFAULTS, {
    onEvent: (kind, _id, get) => {
      if (kind !== 'open') return;
      const i = get();
      const a = bySeq.get(i.firstAlertSeq)!;
      opens.push({ id: i.id, rule: i.rule, severity: i.severity, key: keyText(i), seq: a.seq, callId: a.call.callId });
    },
  });
  for (const a of alerts) g.observe(a);
  const grown = g
    .all()
    .filter((i) => i.count > 1)
    .map((i) => ({ id: i.id, rule: i.rule, key: keyText(i), count: i.count }));
  return { opens, grown };
}
