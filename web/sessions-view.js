import { clockTime, duration } from './format.js';

/** Ended sessions shown below the active ones (their label can still change). */
export const RECENT_ENDED_MAX = 5;

/** Active sessions, then the most recent ended ones; each can be labelled, the active ones ended. */
export class SessionList {
  /**
   * @param {{ list: HTMLElement, empty: HTMLElement, onLabel: (id: string, label: string) => void, onEnd: (id: string) => void }} options
   */
  constructor({ list, empty, onLabel, onEnd }) {
    this.list = list;
    this.empty = empty;
    this.onLabel = onLabel;
    this.onEnd = onEnd;
    this.rows = new Map();
  }

  /** @param {any[]} sessions newest first */
  update(sessions) {
    const now = Date.now();
    const shown = [...sessions.filter((s) => s.status === 'active'), ...sessions.filter((s) => s.status !== 'active').slice(0, RECENT_ENDED_MAX)];
    const keep = new Set();
    shown.forEach((session, index) => {
      keep.add(session.id);
      const row = this.rows.get(session.id) ?? this.create(session.id);
      if (this.list.children[index] !== row.item) this.list.insertBefore(row.item, this.list.children[index] ?? null);
      row.item.dataset.status = session.status;
      row.item.dataset.label = session.label ?? '';
      const length = ((session.endedAt ?? now) - session.startedAt) / 1000;
      setText(row.title, `${session.deviceId} · ${session.status === 'active' ? `active ${duration(length)}` : `ended ${clockTime(session.endedAt)}, ${duration(length)}`}`);
      const facts = [
        session.reps !== undefined ? `${session.reps} reps` : '',
        session.predictedLabel ? `looks like ${session.predictedLabel}` : '',
        session.candidates?.length ? `among ${session.candidates.join(', ')}` : '',
        session.synced ? 'synced' : '',
      ].filter(Boolean);
      setText(row.facts, facts.join(' · '));
      if (document.activeElement !== row.label) row.label.value = session.label ?? '';
      row.label.placeholder = session.predictedLabel ? `label (${session.predictedLabel}?)` : 'label';
      row.end.hidden = session.status !== 'active';
    });
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      row.item.remove();
      this.rows.delete(id);
    }
    this.empty.hidden = shown.length > 0;
  }

  create(id) {
    const item = document.createElement('li');
    item.className = 'session';
    item.dataset.sessionId = id;
    const head = document.createElement('div');
    head.className = 'head';
    const title = document.createElement('strong');
    const facts = document.createElement('span');
    facts.className = 'muted';
    head.append(title, facts);
    const actions = document.createElement('form');
    actions.className = 'actions';
    const label = document.createElement('input');
    label.name = 'label';
    label.setAttribute('list', 'exercise-names');
    label.setAttribute('aria-label', 'exercise label');
    label.pattern = '[A-Za-z0-9_.:\\-]{1,64}';
    label.required = true;
    const save = document.createElement('button');
    save.type = 'submit';
    save.className = 'secondary';
    save.dataset.action = 'label';
    save.textContent = 'Save label';
    const end = document.createElement('button');
    end.type = 'button';
    end.dataset.action = 'end';
    end.textContent = 'End';
    actions.append(label, save, end);
    actions.addEventListener('submit', (event) => {
      event.preventDefault();
      this.onLabel(id, label.value.trim());
      label.blur();
    });
    end.addEventListener('click', () => this.onEnd(id));
    item.append(head, actions);
    const row = { item, title, facts, label, end };
    this.rows.set(id, row);
    return row;
  }
}

/** The start form's candidate checkboxes and the label inputs' suggestions: the active model's exercises. */
export function renderExerciseChoices(candidates, datalist, exercises) {
  candidates.replaceChildren(...exercises.map((name) => {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.name = 'candidate';
    box.value = name;
    label.append(box, name);
    return label;
  }));
  datalist.replaceChildren(...exercises.map((name) => new Option(name)));
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
