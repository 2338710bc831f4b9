// The few browser types the suite's in-page callbacks use. The project compiles for Node (no "dom"
// lib), and a `/// <reference lib="dom" />` here would give every file of the project the DOM's
// globals; these types are erased, so the callbacks still run as plain browser code.

export interface El {
  textContent: string | null;
  innerHTML: string;
  children: {length: number};
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  getAttribute(name: string): string | null;
}

export interface ScriptEl extends El {
  src: string;
}

export interface Win {
  document: {cookie: string; body: El};
  navigator: {clipboard: {readText(): Promise<string>; writeText(text: string): Promise<void>}};
  [name: string]: unknown;
}

/** `globalThis` inside a page callback. */
export type PageGlobal = Win & typeof globalThis;
