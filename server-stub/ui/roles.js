// roles.js - what the caller's role lets the dashboard offer: the one
// place that decides which buttons work.
//
// The server says who the token is (GET /v1/admin/whoami: name and role)
// and checks every call itself; this only spares a reader buttons that
// would be refused. Roles: reader (looks), operator (also acts on
// rollouts and kill switches), admin (everything).

export const ACTIONS = ['pause', 'resume', 'promote', 'promote_full', 'rollback', 'kill_switch'];

const ALLOWED = {
  reader: [],
  operator: ACTIONS,
  admin: ACTIONS,
};

let who = { name: '', role: '' };

export function setIdentity(doc) {
  who = {
    name: doc && typeof doc.name === 'string' ? doc.name : '',
    role: doc && typeof doc.role === 'string' ? doc.role : '',
  };
}

export function identity() {
  return who;
}

// May the caller do `action` (one of ACTIONS)? An unknown role may not.
export function can(action) {
  const allowed = Object.prototype.hasOwnProperty.call(ALLOWED, who.role) ? ALLOWED[who.role] : [];
  return allowed.includes(action);
}
