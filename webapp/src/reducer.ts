// The plugin's slice of the host store (state['plugins-egress-advisor']): choices an administrator
// makes on the dashboard that should survive leaving the System Console page and coming back, for
// as long as the web app stays open.
import type {Reducer} from 'redux';

import type {FindingStatus, Verdict} from '../../common/api';
import type {SuggestionFormat} from '../../common/types';
import {PLUGIN_ID} from './manifest';

export type SortColumn = 'destination' | 'port' | 'verdict' | 'feature' | 'count' | 'firstSeen' | 'lastSeen' | 'pods' | 'status';

export type SortDirection = 'ascending' | 'descending';

/** null column: the bridge's order (most urgent first). */
export interface SortState {
  column: SortColumn | null;
  direction: SortDirection;
}

export interface TableView {
  sort: SortState;
  /** '' for all. */
  status: FindingStatus | '';
  verdict: Verdict | '';
}

export interface PluginState {
  /** Null until the administrator picks one: the plugin's SuggestionFormat setting applies. */
  format: SuggestionFormat | null;
  table: TableView;
}

export const STATE_KEY = `plugins-${PLUGIN_ID}`;

export const initialState: PluginState = {
  format: null,
  table: {sort: {column: null, direction: 'descending'}, status: 'open', verdict: ''},
};

export const SET_FORMAT = 'egress-advisor/set-format';
export const SET_TABLE_VIEW = 'egress-advisor/set-table-view';

export type PluginAction = {type: typeof SET_FORMAT; format: SuggestionFormat} | {type: typeof SET_TABLE_VIEW; view: Partial<TableView>};

export function setFormat(format: SuggestionFormat): PluginAction {
  return {type: SET_FORMAT, format};
}

export function setTableView(view: Partial<TableView>): PluginAction {
  return {type: SET_TABLE_VIEW, view};
}

export const reducer: Reducer<PluginState> = (state = initialState, action) => {
  const a = action as PluginAction;
  switch (a.type) {
    case SET_FORMAT:
      return a.format === state.format ? state : {...state, format: a.format};
    case SET_TABLE_VIEW:
      return {...state, table: {...state.table, ...a.view}};
    default:
      return state;
  }
};
