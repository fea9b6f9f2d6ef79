// actions.js - the operator's buttons: pause, resume, promote (next step
// or all the way), roll back, kill switch. Each asks for a confirmation
// that names the flag, and works only when the caller's role allows it
// (roles.js) and the rollout's state does.

import { post, patch, seg } from './api.js';
import { byId, el, say } from './dom.js';
import { can, identity } from './roles.js';

const ACTIVE = ['running', 'paused'];

const ROLLOUT_ACTIONS = [
  { action: 'pause', label: 'Pause', states: ['running'], op: 'pause',
    ask: 'Pause the rollout of', done: 'Paused' },
  { action: 'resume', label: 'Resume', states: ['paused'], op: 'resume',
    ask: 'Resume the rollout of', done: 'Resumed' },
  { action: 'promote', label: 'Promote: next step', states: ACTIVE, op: 'promote',
    body: { to: 'next' }, ask: 'Promote to the next step the rollout of', done: 'Promoted' },
  { action: 'promote_full', label: 'Promote: full', states: ACTIVE, op: 'promote',
    body: { to: 'full' }, ask: 'Promote to its last step (complete) the rollout of', done: 'Completed' },
  { action: 'rollback', label: 'Roll back', states: ACTIVE, op: 'rollback', danger: true,
    ask: 'Roll back the rollout of', done: 'Rolled back' },
];

// Ask; resolves true when confirmed. The dialog names the flag on its
// title and on the button that confirms.
export function confirmAction(title, text, okLabel) {
  const dialog = byId('confirm');
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  const ok = byId('confirm-ok');
  const cancel = byId('confirm-cancel');
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      ok.removeEventListener('click', yes);
      cancel.removeEventListener('click', no);
      dialog.removeEventListener('cancel', no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => finish(true);
    const no = () => finish(false);
    ok.addEventListener('click', yes);
    cancel.addEventListener('click', no);
    dialog.addEventListener('cancel', no);
    dialog.showModal();
    cancel.focus();
  });
}

// Why a button is off, or '' when it is on.
function refusal(action, state, states) {
  if (!can(action)) {
    const role = identity().role || 'unknown';
    return 'Your role (' + role + ') may not do this.';
  }
  if (states && !states.includes(state)) return 'Not possible while the rollout is ' + state + '.';
  return '';
}

function button(def, why, run) {
  const b = el('button', {
    type: 'button',
    'data-action': def.action,
    class: def.danger ? 'danger' : null,
    disabled: why !== '',
    title: why || null,
  }, def.label);
  b.addEventListener('click', run);
  return b;
}

async function perform(what, work, after) {
  try {
    await work();
    say(what);
  } catch (e) {
    say('Refused: ' + e.message);
  }
  after();
}

// The rollout's buttons; `after` runs once an action is done (or failed).
export function rolloutActions(rollout, after) {
  const flag = rollout.flag;
  const bar = el('div', { class: 'actions', role: 'group', 'aria-label': 'Rollout actions' });
  for (const def of ROLLOUT_ACTIONS) {
    const why = refusal(def.action, rollout.state, def.states);
    bar.append(button(def, why, async () => {
      const sure = await confirmAction(def.label + ': ' + flag, def.ask + ' ' + flag + '?',
        def.label + ' ' + flag);
      if (!sure) return;
      await perform(def.done + ' ' + flag,
        () => post('/v1/admin/rollouts/' + seg(flag) + '/' + def.op, def.body), after);
    }));
  }
  return bar;
}

// The flag's kill switch: turn it off (every unit gets the stable
// variant) or back on.
export function killSwitch(flag, after) {
  const off = flag.enabled;
  const def = {
    action: 'kill_switch',
    label: off ? 'Kill switch: turn off' : 'Kill switch: turn back on',
    danger: off,
  };
  return button(def, refusal('kill_switch'), async () => {
    const sure = await confirmAction(def.label + ': ' + flag.key,
      off ? 'Turn off ' + flag.key + '? Every unit gets its stable variant at once.'
        : 'Turn ' + flag.key + ' back on?',
      (off ? 'Turn off ' : 'Turn on ') + flag.key);
    if (!sure) return;
    await perform((off ? 'Turned off ' : 'Turned on ') + flag.key,
      () => patch('/v1/admin/flags/' + seg(flag.key), { enabled: !off }), after);
  });
}
