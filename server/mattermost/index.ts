export * from './client';
export * from './errors';
export * from './inventory';
export * from './markdown';
export {ALERT_POST_TYPE, MAX_MESSAGE_RUNES, createPost, fitMessage, getPost, getThread, listPostsSince, patchPost} from './posts';
export type {NewPost, PostPatch} from './posts';
export * from './preflight';
export * from './setup';
