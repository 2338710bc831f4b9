// The bridge's presentation layer: pure functions from findings and state to Markdown, post props
// and signed button contexts. Nothing here performs I/O.
export * from './alert';
export * from './command';
export * from './hmac';
export * from './markdown';
export * from './replies';
export {renderAlertProps, alertFinding, type AlertPropsInput} from './props';
