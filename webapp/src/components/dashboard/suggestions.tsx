import React, {forwardRef, useEffect, useState} from 'react';

import type {SuggestionsResponse} from '../../../../common/api';
import type {SuggestionFormat} from '../../../../common/types';
import type {BridgeClient} from '../../client';
import {FORMAT_LABEL, plural} from '../../utils/words';

import {downloadName, FormatSelect, LeftOut, YamlOutput} from './yaml_output';

interface Props {
  client: BridgeClient;
  /** The selected finding keys; empty for the whole patch. */
  keys: string[];
  /** Empties the selection, so that the whole patch is shown again. */
  onShowAll: () => void;
  format: SuggestionFormat;
  onFormat: (format: SuggestionFormat) => void;
  /** Changes when the findings changed on the bridge. */
  refreshToken: number;
}

type Outcome = {id: string; result: SuggestionsResponse} | {id: string; error: string};

/**
 * The one place for YAML: the bridge's whole patch (configured integrations that are or will be blocked, then
 * the destinations found in the access log, each under its heading comment), or the selected destinations'
 * part of it, in the chosen format.
 */
export const Suggestions = forwardRef<HTMLHeadingElement, Props>(function Suggestions({client, keys, onShowAll, format, onFormat, refreshToken}, headingRef) {
  // What was asked (format and keys): an outcome for another question is not shown, while a
  // refresh of the same question keeps showing the previous answer until the new one is in.
  const id = `${format}\n${keys.join('\n')}`;
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const [fmt, ...list] = id.split('\n');
    const asked = list.filter((k) => k !== '');
    client.suggestions({keys: asked.length === 0 ? 'all' : asked, format: fmt as SuggestionFormat}, abort.signal).then(
      (result) => setOutcome({id, result}),
      (err: unknown) => {
        if (!abort.signal.aborted) setOutcome({id, error: err instanceof Error ? err.message : String(err)});
      },
    );
    return () => abort.abort();
  }, [client, id, refreshToken]);

  const current = outcome !== null && outcome.id === id ? outcome : null;
  const result = current !== null && 'result' in current ? current.result : null;
  const error = current !== null && 'error' in current ? current.error : null;
  const yaml = result?.yaml ?? '';
  const sections = result?.sections ?? [];
  return (
    <section className='ea-section ea-panel' aria-labelledby='ea-yaml-title'>
      <div className='ea-spread'>
        <h3 id='ea-yaml-title' ref={headingRef} tabIndex={-1}>
          {'Suggested YAML'}
        </h3>
        <FormatSelect format={format} onFormat={onFormat} />
      </div>
      {keys.length === 0 ? (
        <p className='ea-small ea-muted'>
          {
            'Everything to add, in one patch: the switched-on configured integrations that are or will be blocked, then the open findings of the access log. Each host is listed once. Select rows in the findings table to narrow it.'
          }
        </p>
      ) : (
        <p className='ea-small ea-muted'>
          {`The part of the patch for the ${plural(keys.length, 'selected destination')}, named as in the whole patch. `}
          <button type='button' className='ea-link' onClick={onShowAll}>
            {'Show the whole patch'}
          </button>
        </p>
      )}
      {sections.length > 0 && (
        <ul className='ea-list ea-small' aria-label='Sections of the YAML'>
          {sections.map((sec) => (
            <li key={sec.id}>{`${sec.title}: ${plural(sec.entries.length, 'entry', 'entries')}`}</li>
          ))}
        </ul>
      )}
      <div aria-live='polite'>
        {current === null && <p role='status'>{'Writing the YAML…'}</p>}
        {error !== null && <p className='ea-error-text'>{error}</p>}
        {result !== null && yaml === '' && <p>{'Nothing to add: everything here is already allowed, or cannot be allowed by a ServiceEntry (see below).'}</p>}
      </div>
      {result !== null && yaml !== '' && <YamlOutput yaml={yaml} label={`Suggested YAML, ${FORMAT_LABEL[format]}`} filename={downloadName(format)} />}
      {result !== null && <LeftOut result={result} />}
    </section>
  );
});
