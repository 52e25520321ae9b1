/**
 * Every key the TUI answers, in one table: the app dispatches from it and the
 * help overlay lists it, so the two never disagree.
 */
export type Action =
  | 'quit'
  | 'help'
  | 'down'
  | 'up'
  | 'pageDown'
  | 'pageUp'
  | 'home'
  | 'end'
  | 'open'
  | 'back'
  | 'nextTab'
  | 'prevTab'
  | 'tab1'
  | 'tab2'
  | 'tab3'
  | 'tab4'
  | 'toggleWanted'
  | 'priorityUp'
  | 'priorityDown'
  | 'pause'
  | 'verify'
  | 'remove'
  | 'add'
  | 'limits'
  | 'filter'
  | 'stateFilter'
  | 'sort'
  | 'reverse'
  | 'redraw';

export interface Binding {
  keys: string[];
  /** How the help overlay names the keys. */
  label: string;
  action: Action;
  help: string;
  /** Where the key works. */
  in: 'list' | 'detail' | 'both';
}

export const BINDINGS: Binding[] = [
  { keys: ['j', 'down'], label: 'j/↓', action: 'down', help: 'move down', in: 'both' },
  { keys: ['k', 'up'], label: 'k/↑', action: 'up', help: 'move up', in: 'both' },
  { keys: ['pagedown'], label: 'PgDn', action: 'pageDown', help: 'page down', in: 'both' },
  { keys: ['pageup'], label: 'PgUp', action: 'pageUp', help: 'page up', in: 'both' },
  { keys: ['home', 'g'], label: 'Home/g', action: 'home', help: 'first row', in: 'both' },
  { keys: ['end', 'G'], label: 'End/G', action: 'end', help: 'last row', in: 'both' },
  { keys: ['enter'], label: 'Enter', action: 'open', help: 'open details', in: 'list' },
  {
    keys: ['escape', 'left', 'h'],
    label: 'Esc',
    action: 'back',
    help: 'back to the list',
    in: 'detail',
  },
  { keys: ['tab', 'right'], label: 'Tab', action: 'nextTab', help: 'next tab', in: 'detail' },
  { keys: ['shift-tab'], label: 'S-Tab', action: 'prevTab', help: 'previous tab', in: 'detail' },
  { keys: ['1'], label: '1', action: 'tab1', help: 'Files tab', in: 'detail' },
  { keys: ['2'], label: '2', action: 'tab2', help: 'Peers tab', in: 'detail' },
  { keys: ['3'], label: '3', action: 'tab3', help: 'Trackers tab', in: 'detail' },
  { keys: ['4'], label: '4', action: 'tab4', help: 'Pieces tab', in: 'detail' },
  {
    keys: ['space'],
    label: 'Space',
    action: 'toggleWanted',
    help: 'file: want / skip',
    in: 'detail',
  },
  {
    keys: ['+', '='],
    label: '+',
    action: 'priorityUp',
    help: 'file: raise priority',
    in: 'detail',
  },
  { keys: ['-'], label: '-', action: 'priorityDown', help: 'file: lower priority', in: 'detail' },
  { keys: ['p'], label: 'p', action: 'pause', help: 'pause / resume', in: 'both' },
  { keys: ['v'], label: 'v', action: 'verify', help: 'verify data', in: 'both' },
  { keys: ['r', 'delete'], label: 'r', action: 'remove', help: 'remove (asks first)', in: 'both' },
  { keys: ['l'], label: 'l', action: 'limits', help: 'set rate limits', in: 'both' },
  { keys: ['a'], label: 'a', action: 'add', help: 'add magnet, URL or file', in: 'both' },
  { keys: ['/'], label: '/', action: 'filter', help: 'filter by name', in: 'list' },
  { keys: ['f'], label: 'f', action: 'stateFilter', help: 'filter by state', in: 'list' },
  { keys: ['s'], label: 's', action: 'sort', help: 'next sort key', in: 'list' },
  { keys: ['S'], label: 'S', action: 'reverse', help: 'reverse the sort', in: 'list' },
  { keys: ['ctrl-l'], label: 'C-l', action: 'redraw', help: 'redraw the screen', in: 'both' },
  { keys: ['?'], label: '?', action: 'help', help: 'this help', in: 'both' },
  {
    keys: ['q', 'ctrl-c'],
    label: 'q',
    action: 'quit',
    help: 'quit (daemon keeps running)',
    in: 'both',
  },
];

/** The action of `key` in `view`, if any. */
export function actionFor(key: string, view: 'list' | 'detail'): Action | undefined {
  return BINDINGS.find((b) => (b.in === 'both' || b.in === view) && b.keys.includes(key))?.action;
}
