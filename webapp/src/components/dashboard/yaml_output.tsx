// The pieces every suggested-YAML panel shares, so that the format switch, copy and download behave the
// same wherever YAML is offered.
import React from 'react';

import type {SuggestionsResponse} from '../../../../common/api';
import {SUGGESTION_FORMATS, type SuggestionFormat} from '../../../../common/types';
import {downloadText} from '../../utils/download';
import {FORMAT_LABEL} from '../../utils/words';
import {CopyButton} from '../common/copy_button';

export function downloadName(format: SuggestionFormat, stem = 'egress-advisor'): string {
  return format === 'serviceentry' ? `${stem}-serviceentries.yaml` : `${stem}-${format}-values.yaml`;
}

export function FormatSelect({format, onFormat}: {format: SuggestionFormat; onFormat: (format: SuggestionFormat) => void}) {
  return (
    <label className='ea-field'>
      {'Format'}
      <select className='ea-input' value={format} onChange={(e) => onFormat(e.target.value as SuggestionFormat)}>
        {SUGGESTION_FORMATS.map((f) => (
          <option key={f} value={f}>
            {FORMAT_LABEL[f]}
          </option>
        ))}
      </select>
    </label>
  );
}

interface YamlOutputProps {
  yaml: string;
  /** The accessible name of the YAML block; each panel has its own, so they can be told apart. */
  label: string;
  filename: string;
}

export function YamlOutput({yaml, label, filename}: YamlOutputProps) {
  return (
    <>
      <pre className='ea-pre' tabIndex={0} aria-label={label}>
        {yaml}
      </pre>
      <div className='ea-row'>
        <CopyButton text={yaml} label='Copy YAML' className='ea-btn' />
        <button type='button' className='ea-btn ea-btn--secondary' onClick={() => downloadText(filename, yaml)}>
          {'Download'}
        </button>
      </div>
    </>
  );
}

/** The hosts the bridge could not write an entry for, and what it wants a person to know. */
export function LeftOut({result}: {result: SuggestionsResponse}) {
  const notes = result.notes ?? [];
  return (
    <>
      {result.skipped.length > 0 && (
        <>
          <h4 style={{marginTop: 12}}>{'Left out'}</h4>
          <ul className='ea-list ea-small'>
            {result.skipped.map((s, i) => (
              <li key={`${s.host}-${i}`}>
                <code className='ea-code'>{s.host}</code>
                {`: ${s.reason}`}
              </li>
            ))}
          </ul>
        </>
      )}
      {notes.length > 0 && (
        <ul className='ea-list ea-small ea-muted'>
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </>
  );
}
